package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** Asynchronous Message (RFC 7143 §11.9); event 1 asks the initiator to log out. */
public record AsyncMessage(long lun, int statSn, int expCmdSn, int maxCmdSn, int asyncEvent, int asyncVcode,
                           int parameter1, int parameter2, int parameter3, ByteBuf data) implements DataPdu {
    public AsyncMessage {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.ASYNC_MESSAGE;
    }

    /** Always 0xffffffff (§11.9). */
    @Override
    public int itt() {
        return RESERVED_TAG;
    }

    @Override
    public AsyncMessage replace(ByteBuf content) {
        return new AsyncMessage(lun, statSn, expCmdSn, maxCmdSn, asyncEvent, asyncVcode, parameter1, parameter2,
                parameter3, content);
    }
}
