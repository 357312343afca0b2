package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** Text Request (RFC 7143 §11.10). */
public record TextRequest(boolean immediate, boolean finalFlag, boolean continueFlag, long lun, int itt, int ttt,
                          int cmdSn, int expStatSn, ByteBuf data) implements DataPdu {
    public TextRequest {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.TEXT_REQUEST;
    }

    @Override
    public TextRequest replace(ByteBuf content) {
        return new TextRequest(immediate, finalFlag, continueFlag, lun, itt, ttt, cmdSn, expStatSn, content);
    }
}
