package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/**
 * SCSI Data-In (RFC 7143 §11.7). With {@code statusPresent} (S bit) it also ends the command (phase
 * collapse, §11.7.4): then {@code status}, {@code statSn} and the residual flags are meaningful.
 */
public record DataIn(boolean finalFlag, boolean acknowledge, boolean overflow, boolean underflow,
                     boolean statusPresent, int status, long lun, int itt, int ttt, int statSn, int expCmdSn,
                     int maxCmdSn, int dataSn, int bufferOffset, int residualCount, ByteBuf data) implements DataPdu {
    public DataIn {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.DATA_IN;
    }

    @Override
    public DataIn replace(ByteBuf content) {
        return new DataIn(finalFlag, acknowledge, overflow, underflow, statusPresent, status, lun, itt, ttt, statSn,
                expCmdSn, maxCmdSn, dataSn, bufferOffset, residualCount, content);
    }
}
