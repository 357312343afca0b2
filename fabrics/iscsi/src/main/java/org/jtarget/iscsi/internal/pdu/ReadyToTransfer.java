package org.jtarget.iscsi.internal.pdu;

/** Ready To Transfer, R2T (RFC 7143 §11.8): asks for {@code desiredLength} bytes at {@code bufferOffset}. */
public record ReadyToTransfer(long lun, int itt, int ttt, int statSn, int expCmdSn, int maxCmdSn, int r2tSn,
                              int bufferOffset, int desiredLength) implements IscsiPdu {
    @Override
    public Opcode opcode() {
        return Opcode.R2T;
    }
}
