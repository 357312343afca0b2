package org.jtarget.iscsi.internal.pdu;

/** Task Management Function Response (RFC 7143 §11.6); {@code response} is the code of §11.6.1. */
public record TaskManagementResponsePdu(int response, int itt, int statSn, int expCmdSn, int maxCmdSn)
        implements IscsiPdu {
    @Override
    public Opcode opcode() {
        return Opcode.TASK_MANAGEMENT_RESPONSE;
    }
}
