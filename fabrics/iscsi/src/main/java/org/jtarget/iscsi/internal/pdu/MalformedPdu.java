package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/**
 * What the decoder makes of a PDU it cannot accept (cf. Netty MqttDecoder's invalid messages): the reason
 * for the Reject it deserves (RFC 7143 §11.17.1), a message for the log, and a copy of the 48-byte header
 * to return in the Reject's data segment. {@code fatal} means the byte stream can no longer be trusted
 * (header digest error, oversized segment): the connection must close after the Reject.
 */
public record MalformedPdu(int rejectReason, boolean fatal, String message, int itt, ByteBuf data)
        implements DataPdu {
    public MalformedPdu {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.REJECT;
    }

    @Override
    public MalformedPdu replace(ByteBuf content) {
        return new MalformedPdu(rejectReason, fatal, message, itt, content);
    }
}
