package org.jtarget.scsi;

/** Task attributes (SAM-5 8.6). Codes are the iSCSI ATTR field values (RFC 7143 11.3.1.1). */
public enum TaskAttribute {
    UNTAGGED(0), SIMPLE(1), ORDERED(2), HEAD_OF_QUEUE(3), ACA(4);

    private final int code;

    TaskAttribute(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Decodes an ATTR value; reserved values (5-7) are treated as SIMPLE, as RFC 7143 allows. */
    public static TaskAttribute fromCode(int code) {
        for (TaskAttribute a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        return SIMPLE;
    }
}
