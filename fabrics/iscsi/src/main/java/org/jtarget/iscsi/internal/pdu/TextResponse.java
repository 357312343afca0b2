package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** Text Response (RFC 7143 §11.11); C set with a TTT when more text follows. */
public record TextResponse(boolean finalFlag, boolean continueFlag, long lun, int itt, int ttt, int statSn,
                           int expCmdSn, int maxCmdSn, ByteBuf data) implements DataPdu {
    public TextResponse {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.TEXT_RESPONSE;
    }

    @Override
    public TextResponse replace(ByteBuf content) {
        return new TextResponse(finalFlag, continueFlag, lun, itt, ttt, statSn, expCmdSn, maxCmdSn, content);
    }
}
