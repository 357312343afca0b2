package org.jtarget.iscsi.internal.pdu;

/** iSCSI opcodes (RFC 7143 §11.2.1.2), the low six bits of BHS byte 0. */
public enum Opcode {
    NOP_OUT(0x00), SCSI_COMMAND(0x01), TASK_MANAGEMENT_REQUEST(0x02), LOGIN_REQUEST(0x03), TEXT_REQUEST(0x04),
    DATA_OUT(0x05), LOGOUT_REQUEST(0x06), SNACK_REQUEST(0x10),
    NOP_IN(0x20), SCSI_RESPONSE(0x21), TASK_MANAGEMENT_RESPONSE(0x22), LOGIN_RESPONSE(0x23), TEXT_RESPONSE(0x24),
    DATA_IN(0x25), LOGOUT_RESPONSE(0x26), R2T(0x31), ASYNC_MESSAGE(0x32), REJECT(0x3f);

    private static final Opcode[] BY_CODE = new Opcode[64];

    static {
        for (Opcode o : values()) {
            BY_CODE[o.code] = o;
        }
    }

    private final int code;

    Opcode(int code) {
        this.code = code;
    }

    /** The six-bit value on the wire. */
    public int code() {
        return code;
    }

    /** Whether initiators send this opcode (codes below 0x20). */
    public boolean fromInitiator() {
        return code < 0x20;
    }

    /** The opcode for a six-bit code, or null when RFC 7143 defines none (vendor codes included). */
    public static Opcode fromCode(int code) {
        return code >= 0 && code < 64 ? BY_CODE[code] : null;
    }
}
