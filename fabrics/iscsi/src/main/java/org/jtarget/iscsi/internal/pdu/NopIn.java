package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** NOP-In (RFC 7143 §11.19): the answer to a ping, or a target ping (TTT other than 0xffffffff). */
public record NopIn(long lun, int itt, int ttt, int statSn, int expCmdSn, int maxCmdSn, ByteBuf data)
        implements DataPdu {
    public NopIn {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.NOP_IN;
    }

    @Override
    public NopIn replace(ByteBuf content) {
        return new NopIn(lun, itt, ttt, statSn, expCmdSn, maxCmdSn, content);
    }
}
