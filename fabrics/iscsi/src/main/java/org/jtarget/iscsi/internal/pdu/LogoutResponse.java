package org.jtarget.iscsi.internal.pdu;

/** Logout Response (RFC 7143 §11.15); response 0 success, 1 CID not found, 2 recovery not supported. */
public record LogoutResponse(int response, int itt, int statSn, int expCmdSn, int maxCmdSn, int time2Wait,
                             int time2Retain) implements IscsiPdu {
    public static final int SUCCESS = 0;
    public static final int CID_NOT_FOUND = 1;
    public static final int RECOVERY_NOT_SUPPORTED = 2;

    @Override
    public Opcode opcode() {
        return Opcode.LOGOUT_RESPONSE;
    }
}
