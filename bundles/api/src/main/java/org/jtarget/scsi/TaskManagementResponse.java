package org.jtarget.scsi;

/** Task management service responses. Codes are the iSCSI Response field values (RFC 7143 11.6.1). */
public enum TaskManagementResponse {
    FUNCTION_COMPLETE(0), TASK_DOES_NOT_EXIST(1), LUN_DOES_NOT_EXIST(2), TASK_STILL_ALLEGIANT(3),
    TASK_REASSIGNMENT_NOT_SUPPORTED(4), FUNCTION_NOT_SUPPORTED(5), AUTHORIZATION_FAILED(6),
    FUNCTION_SUCCEEDED(7), FUNCTION_REJECTED(255);

    private final int code;

    TaskManagementResponse(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
