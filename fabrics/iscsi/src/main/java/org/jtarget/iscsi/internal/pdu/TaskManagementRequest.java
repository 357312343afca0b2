package org.jtarget.iscsi.internal.pdu;

/** Task Management Function Request (RFC 7143 §11.5). {@code function} is the 7-bit code of §11.5.1. */
public record TaskManagementRequest(boolean immediate, int function, long lun, int itt, int referencedTaskTag,
                                    int cmdSn, int expStatSn, int refCmdSn, int expDataSn) implements IscsiPdu {
    @Override
    public Opcode opcode() {
        return Opcode.TASK_MANAGEMENT_REQUEST;
    }
}
