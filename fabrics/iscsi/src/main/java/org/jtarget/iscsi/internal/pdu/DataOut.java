package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** SCSI Data-Out (RFC 7143 §11.7); TTT 0xffffffff for unsolicited data. */
public record DataOut(boolean finalFlag, long lun, int itt, int ttt, int expStatSn, int dataSn, int bufferOffset,
                      ByteBuf data) implements DataPdu {
    public DataOut {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.DATA_OUT;
    }

    @Override
    public DataOut replace(ByteBuf content) {
        return new DataOut(finalFlag, lun, itt, ttt, expStatSn, dataSn, bufferOffset, content);
    }
}
