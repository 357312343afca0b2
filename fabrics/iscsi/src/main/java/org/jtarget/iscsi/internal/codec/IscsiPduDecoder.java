package org.jtarget.iscsi.internal.codec;

import static org.jtarget.iscsi.internal.codec.Bhs.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.jtarget.iscsi.internal.pdu.AsyncMessage;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Opcode;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.SnackRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;

/**
 * Turns one framed PDU (header = BHS + AHS, data = the segment without padding or digest) into an
 * {@link IscsiPdu} (RFC 7143 §11). Pure and stateless. Never throws on bad input: it answers a
 * {@link MalformedPdu}. The data buffer is retained only when it ends up in the returned PDU, after the last
 * check; the caller keeps its own reference either way.
 */
public final class IscsiPduDecoder {
    /** AHS types (RFC 7143 §11.2.2.2). */
    private static final int AHS_EXTENDED_CDB = 1;
    private static final int AHS_BIDI_READ_LENGTH = 2;

    public IscsiPdu decode(ByteBuf header, ByteBuf data) {
        int b0 = header.getUnsignedByte(OPCODE);
        boolean immediate = (b0 & IMMEDIATE_BIT) != 0;
        int b1 = header.getUnsignedByte(FLAGS);
        boolean fin = (b1 & FINAL_BIT) != 0;
        int b2 = header.getUnsignedByte(2);
        int b3 = header.getUnsignedByte(3);
        long lun = header.getLong(LUN);
        int itt = header.getInt(ITT);
        int w20 = header.getInt(W20);
        int w24 = header.getInt(W24);
        int w28 = header.getInt(W28);
        int w32 = header.getInt(W32);
        int w36 = header.getInt(W36);
        int w40 = header.getInt(W40);
        int w44 = header.getInt(W44);
        Opcode opcode = Opcode.fromCode(b0 & 0x3f);
        if (opcode == null) {
            return malformed(Reject.COMMAND_NOT_SUPPORTED, "opcode: 0x" + Integer.toHexString(b0 & 0x3f)
                    + " (expected: an opcode of RFC 7143 §11.2.1.2)", itt, header);
        }
        int ahsLength = header.readableBytes() - LENGTH;
        if (ahsLength > 0 && opcode != Opcode.SCSI_COMMAND) {
            return malformed(Reject.PROTOCOL_ERROR, "TotalAHSLength: " + ahsLength + " on " + opcode
                    + " (expected: 0)", itt, header);
        }
        int dataLength = data.readableBytes();
        switch (opcode) {
            case NOP_OUT:
                return new NopOut(immediate, lun, itt, w20, w24, w28, retain(data));
            case SCSI_COMMAND:
                return scsiCommand(header, immediate, b1, lun, itt, w20, w24, w28, data);
            case TASK_MANAGEMENT_REQUEST:
                return new TaskManagementRequest(immediate, b1 & 0x7f, lun, itt, w20, w24, w28, w32, w36);
            case LOGIN_REQUEST:
                return new LoginRequest(fin, (b1 & 0x40) != 0, (b1 >> 2) & 3, b1 & 3, b2, b3, lun >>> 16,
                        (int) (lun & 0xffff), itt, w20 >>> 16, w24, w28, retain(data));
            case TEXT_REQUEST:
                return new TextRequest(immediate, fin, (b1 & 0x40) != 0, lun, itt, w20, w24, w28, retain(data));
            case DATA_OUT:
                return new DataOut(fin, lun, itt, w20, w28, w36, w40, retain(data));
            case LOGOUT_REQUEST:
                if (dataLength > 0) {
                    return malformed(Reject.PROTOCOL_ERROR, "DataSegmentLength: " + dataLength
                            + " on a Logout Request (expected: 0)", itt, header);
                }
                return new LogoutRequest(immediate, b1 & 0x7f, itt, w20 >>> 16, w24, w28);
            case SNACK_REQUEST:
                return new SnackRequest(b1 & 0x0f, lun, itt, w20, w28, w40, w44);
            case NOP_IN:
                return new NopIn(lun, itt, w20, w24, w28, w32, retain(data));
            case SCSI_RESPONSE:
                return new ScsiResponsePdu((b1 & 0x10) != 0, (b1 & 0x08) != 0, (b1 & 0x04) != 0, (b1 & 0x02) != 0,
                        b2, b3, itt, w20, w24, w28, w32, w36, w40, w44, retain(data));
            case TASK_MANAGEMENT_RESPONSE:
                return new TaskManagementResponsePdu(b2, itt, w24, w28, w32);
            case LOGIN_RESPONSE:
                return new LoginResponse(fin, (b1 & 0x40) != 0, (b1 >> 2) & 3, b1 & 3, b2, b3, lun >>> 16,
                        (int) (lun & 0xffff), itt, w24, w28, w32, w36 >>> 24, (w36 >>> 16) & 0xff, retain(data));
            case TEXT_RESPONSE:
                return new TextResponse(fin, (b1 & 0x40) != 0, lun, itt, w20, w24, w28, w32, retain(data));
            case DATA_IN:
                return new DataIn(fin, (b1 & 0x40) != 0, (b1 & 0x04) != 0, (b1 & 0x02) != 0, (b1 & 0x01) != 0, b3,
                        lun, itt, w20, w24, w28, w32, w36, w40, w44, retain(data));
            case LOGOUT_RESPONSE:
                return new LogoutResponse(b2, itt, w24, w28, w32, w40 >>> 16, w40 & 0xffff);
            case R2T:
                return new ReadyToTransfer(lun, itt, w20, w24, w28, w32, w36, w40, w44);
            case ASYNC_MESSAGE:
                return new AsyncMessage(lun, w24, w28, w32, w36 >>> 24, (w36 >>> 16) & 0xff, w36 & 0xffff,
                        w40 >>> 16, w40 & 0xffff, retain(data));
            case REJECT:
                return new Reject(b2, w24, w28, w32, w36, retain(data));
            default:
                throw new AssertionError(opcode);
        }
    }

    private static IscsiPdu scsiCommand(ByteBuf header, boolean immediate, int b1, long lun, int itt, int edtl,
                                        int cmdSn, int expStatSn, ByteBuf data) {
        byte[] cdb = new byte[16];
        header.getBytes(W32, cdb);
        int bidiReadLength = 0;
        // AHS segments (RFC 7143 §11.2.2): AHSLength (2), AHSType (1), specific; each padded to 4 bytes.
        int index = LENGTH;
        int end = header.readableBytes();
        while (index < end) {
            if (end - index < 4) {
                return malformed(Reject.PROTOCOL_ERROR, "AHS at " + index + " shorter than 4 bytes", itt, header);
            }
            int ahsLength = header.getUnsignedShort(index);
            int type = header.getUnsignedByte(index + 2);
            int size = (3 + ahsLength + 3) & ~3;
            if (index + size > end) {
                return malformed(Reject.PROTOCOL_ERROR, "AHSLength: " + ahsLength + " (expected: <= "
                        + (end - index - 3) + ")", itt, header);
            }
            if (type == AHS_EXTENDED_CDB && ahsLength > 1) {
                // §11.2.2.3: a reserved byte, then CDB bytes 16 onwards.
                byte[] longCdb = new byte[16 + ahsLength - 1];
                System.arraycopy(cdb, 0, longCdb, 0, 16);
                header.getBytes(index + 4, longCdb, 16, ahsLength - 1);
                cdb = longCdb;
            } else if (type == AHS_BIDI_READ_LENGTH && ahsLength == 5) {
                bidiReadLength = header.getInt(index + 4); // §11.2.2.4
            } else {
                return malformed(Reject.INVALID_PDU_FIELD, "AHSType: " + type + " with AHSLength " + ahsLength
                        + " (expected: 1 extended CDB or 2 with length 5)", itt, header);
            }
            index += size;
        }
        boolean read = (b1 & 0x40) != 0;
        boolean write = (b1 & 0x20) != 0;
        if (!write && data.isReadable()) {
            return malformed(Reject.PROTOCOL_ERROR, "immediate data on a command without the W bit", itt, header);
        }
        return new ScsiCommand(immediate, (b1 & FINAL_BIT) != 0, read, write, b1 & 0x07, lun, itt, edtl, cmdSn,
                expStatSn, cdb, bidiReadLength, retain(data));
    }

    private static ByteBuf retain(ByteBuf data) {
        return data.isReadable() ? data.retain() : Unpooled.EMPTY_BUFFER;
    }

    /** A MalformedPdu carrying a copy of the 48-byte BHS for the Reject's data segment (§11.17.3). */
    static MalformedPdu malformed(int reason, String message, int itt, ByteBuf header) {
        return new MalformedPdu(reason, false, message, itt, Unpooled.copiedBuffer(header.slice(0, LENGTH)));
    }
}
