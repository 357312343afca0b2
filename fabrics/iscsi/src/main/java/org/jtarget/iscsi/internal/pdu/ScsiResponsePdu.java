package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/**
 * SCSI Response (RFC 7143 §11.4). {@code data} is the whole data segment: SenseLength (2 bytes) followed by
 * the sense data (§11.4.7), or empty. Flags: o/u bidirectional overflow/underflow, O/U overflow/underflow.
 */
public record ScsiResponsePdu(boolean bidiOverflow, boolean bidiUnderflow, boolean overflow, boolean underflow,
                              int response, int status, int itt, int snackTag, int statSn, int expCmdSn,
                              int maxCmdSn, int expDataSn, int bidiResidualCount, int residualCount, ByteBuf data)
        implements DataPdu {
    /** Response field: Command Completed at Target (§11.4.3). */
    public static final int COMMAND_COMPLETED = 0x00;
    /** Response field: Target Failure. */
    public static final int TARGET_FAILURE = 0x01;

    public ScsiResponsePdu {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.SCSI_RESPONSE;
    }

    @Override
    public ScsiResponsePdu replace(ByteBuf content) {
        return new ScsiResponsePdu(bidiOverflow, bidiUnderflow, overflow, underflow, response, status, itt, snackTag,
                statSn, expCmdSn, maxCmdSn, expDataSn, bidiResidualCount, residualCount, content);
    }
}
