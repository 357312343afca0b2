package org.jtarget.iscsi.internal.pdu;

/** Logout Request (RFC 7143 §11.14); reason 0 closes the session, 1 the connection, 2 for recovery. */
public record LogoutRequest(boolean immediate, int reason, int itt, int cid, int cmdSn, int expStatSn)
        implements IscsiPdu {
    public static final int CLOSE_SESSION = 0;
    public static final int CLOSE_CONNECTION = 1;
    public static final int REMOVE_FOR_RECOVERY = 2;

    @Override
    public Opcode opcode() {
        return Opcode.LOGOUT_REQUEST;
    }
}
