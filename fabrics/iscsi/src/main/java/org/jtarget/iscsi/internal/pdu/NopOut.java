package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** NOP-Out (RFC 7143 §11.18): a ping, or the answer to a target's NOP-In (ITT 0xffffffff). */
public record NopOut(boolean immediate, long lun, int itt, int ttt, int cmdSn, int expStatSn, ByteBuf data)
        implements DataPdu {
    public NopOut {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.NOP_OUT;
    }

    @Override
    public NopOut replace(ByteBuf content) {
        return new NopOut(immediate, lun, itt, ttt, cmdSn, expStatSn, content);
    }
}
