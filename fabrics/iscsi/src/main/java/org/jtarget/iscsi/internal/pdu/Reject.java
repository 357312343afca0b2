package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** Reject (RFC 7143 §11.17); {@code data} holds the rejected PDU's 48-byte header. */
public record Reject(int reason, int statSn, int expCmdSn, int maxCmdSn, int dataSn, ByteBuf data)
        implements DataPdu {
    public static final int DATA_DIGEST_ERROR = 0x02;
    public static final int SNACK_REJECT = 0x03;
    public static final int PROTOCOL_ERROR = 0x04;
    public static final int COMMAND_NOT_SUPPORTED = 0x05;
    public static final int IMMEDIATE_COMMAND_REJECT = 0x06;
    public static final int TASK_IN_PROGRESS = 0x07;
    public static final int INVALID_DATA_ACK = 0x08;
    public static final int INVALID_PDU_FIELD = 0x09;
    public static final int OUT_OF_RESOURCES = 0x0a;
    public static final int NEGOTIATION_RESET = 0x0b;
    public static final int WAITING_FOR_LOGOUT = 0x0c;

    public Reject {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.REJECT;
    }

    /** Always 0xffffffff (§11.17). */
    @Override
    public int itt() {
        return RESERVED_TAG;
    }

    @Override
    public Reject replace(ByteBuf content) {
        return new Reject(reason, statSn, expCmdSn, maxCmdSn, dataSn, content);
    }
}
