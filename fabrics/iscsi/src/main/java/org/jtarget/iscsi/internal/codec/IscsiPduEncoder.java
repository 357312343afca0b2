package org.jtarget.iscsi.internal.codec;

import static org.jtarget.iscsi.internal.codec.Bhs.*;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.AsyncMessage;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.DataPdu;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
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
 * Writes PDUs (RFC 7143 §11): a pooled header buffer (BHS, AHS, header digest), then the data segment as a
 * retained reference to the PDU's own buffer (no copy), then padding and data digest. Encodes every PDU type
 * so tests can play the initiator.
 */
public final class IscsiPduEncoder extends MessageToMessageEncoder<IscsiPdu> {
    private final ConnectionSettings settings;

    public IscsiPduEncoder(ConnectionSettings settings) {
        super(IscsiPdu.class);
        this.settings = settings;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, IscsiPdu pdu, List<Object> out) {
        ByteBuf data = pdu instanceof DataPdu d ? d.data() : null;
        int dataLength = data == null ? 0 : data.readableBytes();
        if (dataLength > 0xffffff) {
            throw new EncoderException("DataSegmentLength: " + dataLength + " (expected: <= 16777215)");
        }
        byte[] extraCdb = extendedCdb(pdu);
        int ahsLength = extraCdb == null ? 0 : (4 + extraCdb.length + 3) & ~3;
        int bidi = pdu instanceof ScsiCommand c && c.bidiReadLength() != 0 ? 8 : 0;
        ahsLength += bidi;
        boolean headerDigest = settings.headerDigest();
        int padding = -dataLength & 3;
        boolean dataDigest = settings.dataDigest() && dataLength > 0;
        boolean inline = dataLength > 0 && dataLength <= 64; // small segments: one buffer beats three
        int capacity = LENGTH + ahsLength + (headerDigest ? 4 : 0)
                + (inline ? dataLength + padding + (dataDigest ? 4 : 0) : 0);
        ByteBuf header = ctx.alloc().directBuffer(capacity);
        try {
            writeBhs(header, pdu, dataLength);
            header.setByte(TOTAL_AHS_LENGTH, ahsLength / 4);
            if (extraCdb != null) {
                header.writeShort(extraCdb.length + 1).writeByte(1).writeByte(0).writeBytes(extraCdb);
                header.writeZero(-(extraCdb.length) & 3);
            }
            if (bidi > 0) {
                header.writeShort(5).writeByte(2).writeByte(0).writeInt(((ScsiCommand) pdu).bidiReadLength());
            }
            if (headerDigest) {
                header.writeIntLE(Crc32c.of(header, 0, header.writerIndex()));
            }
            if (inline) {
                header.writeBytes(data, data.readerIndex(), dataLength).writeZero(padding);
                if (dataDigest) {
                    header.writeIntLE(Crc32c.ofPadded(data, padding));
                }
            }
        } catch (RuntimeException e) {
            header.release();
            throw e;
        }
        out.add(header);
        if (dataLength > 0 && !inline) {
            out.add(data.retainedSlice());
            if (padding > 0 || dataDigest) {
                ByteBuf trailer = ctx.alloc().directBuffer(8);
                trailer.writeZero(padding);
                if (dataDigest) {
                    trailer.writeIntLE(Crc32c.ofPadded(data, padding));
                }
                out.add(trailer);
            }
        }
    }

    /**
     * The 48-byte BHS of a PDU as it was (or would be) sent, without AHS or digests: the data segment of a
     * Reject (RFC 7143 §11.17.3) for a PDU already decoded.
     */
    public static ByteBuf bhsOf(IscsiPdu pdu) {
        ByteBuf b = io.netty.buffer.Unpooled.buffer(LENGTH);
        writeBhs(b, pdu, pdu instanceof DataPdu d ? d.data().readableBytes() : 0);
        return b;
    }

    private static byte[] extendedCdb(IscsiPdu pdu) {
        if (pdu instanceof ScsiCommand c) {
            byte[] cdb = c.cdb();
            if (cdb.length > 16) {
                byte[] extra = new byte[cdb.length - 16];
                System.arraycopy(cdb, 16, extra, 0, extra.length);
                return extra;
            }
        }
        return null;
    }

    private static void writeBhs(ByteBuf b, IscsiPdu pdu, int dataLength) {
        int op = pdu.opcode().code() | (pdu.immediate() && pdu.opcode().fromInitiator() ? IMMEDIATE_BIT : 0);
        if (pdu instanceof NopOut p) {
            bhs(b, op, FINAL_BIT, 0, 0, dataLength, p.lun(), p.itt(), p.ttt(), p.cmdSn(), p.expStatSn(), 0, 0, 0, 0);
        } else if (pdu instanceof ScsiCommand p) {
            int flags = (p.finalFlag() ? FINAL_BIT : 0) | (p.read() ? 0x40 : 0) | (p.write() ? 0x20 : 0)
                    | (p.attribute() & 7);
            bhs(b, op, flags, 0, 0, dataLength, p.lun(), p.itt(), p.expectedDataLength(), p.cmdSn(), p.expStatSn(),
                    0, 0, 0, 0);
            b.setBytes(W32, p.cdb(), 0, 16);
        } else if (pdu instanceof TaskManagementRequest p) {
            bhs(b, op, FINAL_BIT | p.function(), 0, 0, dataLength, p.lun(), p.itt(), p.referencedTaskTag(), p.cmdSn(),
                    p.expStatSn(), p.refCmdSn(), p.expDataSn(), 0, 0);
        } else if (pdu instanceof LoginRequest p) {
            bhs(b, op | IMMEDIATE_BIT, loginFlags(p.transit(), p.continueFlag(), p.csg(), p.nsg()), p.versionMax(),
                    p.versionMin(), dataLength, (p.isid() << 16) | p.tsih(), p.itt(), p.cid() << 16, p.cmdSn(),
                    p.expStatSn(), 0, 0, 0, 0);
        } else if (pdu instanceof TextRequest p) {
            bhs(b, op, (p.finalFlag() ? FINAL_BIT : 0) | (p.continueFlag() ? 0x40 : 0), 0, 0, dataLength, p.lun(),
                    p.itt(), p.ttt(), p.cmdSn(), p.expStatSn(), 0, 0, 0, 0);
        } else if (pdu instanceof DataOut p) {
            bhs(b, op, p.finalFlag() ? FINAL_BIT : 0, 0, 0, dataLength, p.lun(), p.itt(), p.ttt(), 0, p.expStatSn(),
                    0, p.dataSn(), p.bufferOffset(), 0);
        } else if (pdu instanceof LogoutRequest p) {
            bhs(b, op, FINAL_BIT | p.reason(), 0, 0, dataLength, 0, p.itt(), p.cid() << 16, p.cmdSn(), p.expStatSn(),
                    0, 0, 0, 0);
        } else if (pdu instanceof SnackRequest p) {
            bhs(b, op, FINAL_BIT | p.type(), 0, 0, dataLength, p.lun(), p.itt(), p.ttt(), 0, p.expStatSn(), 0, 0,
                    p.begRun(), p.runLength());
        } else if (pdu instanceof NopIn p) {
            bhs(b, op, FINAL_BIT, 0, 0, dataLength, p.lun(), p.itt(), p.ttt(), p.statSn(), p.expCmdSn(),
                    p.maxCmdSn(), 0, 0, 0);
        } else if (pdu instanceof ScsiResponsePdu p) {
            int flags = FINAL_BIT | (p.bidiOverflow() ? 0x10 : 0) | (p.bidiUnderflow() ? 0x08 : 0)
                    | (p.overflow() ? 0x04 : 0) | (p.underflow() ? 0x02 : 0);
            bhs(b, op, flags, p.response(), p.status(), dataLength, 0, p.itt(), p.snackTag(), p.statSn(),
                    p.expCmdSn(), p.maxCmdSn(), p.expDataSn(), p.bidiResidualCount(), p.residualCount());
        } else if (pdu instanceof TaskManagementResponsePdu p) {
            bhs(b, op, FINAL_BIT, p.response(), 0, dataLength, 0, p.itt(), 0, p.statSn(), p.expCmdSn(), p.maxCmdSn(),
                    0, 0, 0);
        } else if (pdu instanceof LoginResponse p) {
            bhs(b, op, loginFlags(p.transit(), p.continueFlag(), p.csg(), p.nsg()), p.versionMax(),
                    p.versionActive(), dataLength, (p.isid() << 16) | p.tsih(), p.itt(), 0, p.statSn(), p.expCmdSn(),
                    p.maxCmdSn(), (p.statusClass() << 24) | (p.statusDetail() << 16), 0, 0);
        } else if (pdu instanceof TextResponse p) {
            bhs(b, op, (p.finalFlag() ? FINAL_BIT : 0) | (p.continueFlag() ? 0x40 : 0), 0, 0, dataLength, p.lun(),
                    p.itt(), p.ttt(), p.statSn(), p.expCmdSn(), p.maxCmdSn(), 0, 0, 0);
        } else if (pdu instanceof DataIn p) {
            int flags = (p.finalFlag() ? FINAL_BIT : 0) | (p.acknowledge() ? 0x40 : 0) | (p.overflow() ? 0x04 : 0)
                    | (p.underflow() ? 0x02 : 0) | (p.statusPresent() ? 0x01 : 0);
            bhs(b, op, flags, 0, p.statusPresent() ? p.status() : 0, dataLength, p.lun(), p.itt(), p.ttt(),
                    p.statSn(), p.expCmdSn(), p.maxCmdSn(), p.dataSn(), p.bufferOffset(), p.residualCount());
        } else if (pdu instanceof LogoutResponse p) {
            bhs(b, op, FINAL_BIT, p.response(), 0, dataLength, 0, p.itt(), 0, p.statSn(), p.expCmdSn(), p.maxCmdSn(),
                    0, (p.time2Wait() << 16) | (p.time2Retain() & 0xffff), 0);
        } else if (pdu instanceof ReadyToTransfer p) {
            bhs(b, op, FINAL_BIT, 0, 0, dataLength, p.lun(), p.itt(), p.ttt(), p.statSn(), p.expCmdSn(),
                    p.maxCmdSn(), p.r2tSn(), p.bufferOffset(), p.desiredLength());
        } else if (pdu instanceof AsyncMessage p) {
            bhs(b, op, FINAL_BIT, 0, 0, dataLength, p.lun(), IscsiPdu.RESERVED_TAG, 0, p.statSn(), p.expCmdSn(),
                    p.maxCmdSn(), (p.asyncEvent() << 24) | (p.asyncVcode() << 16) | (p.parameter1() & 0xffff),
                    (p.parameter2() << 16) | (p.parameter3() & 0xffff), 0);
        } else if (pdu instanceof Reject p) {
            bhs(b, op, FINAL_BIT, p.reason(), 0, dataLength, 0, IscsiPdu.RESERVED_TAG, 0, p.statSn(), p.expCmdSn(),
                    p.maxCmdSn(), p.dataSn(), 0, 0);
        } else {
            throw new EncoderException("cannot encode " + pdu.getClass().getSimpleName());
        }
    }

    private static int loginFlags(boolean transit, boolean cont, int csg, int nsg) {
        return (transit ? 0x80 : 0) | (cont ? 0x40 : 0) | ((csg & 3) << 2) | (nsg & 3);
    }

    private static void bhs(ByteBuf b, int op, int flags, int b2, int b3, int dataLength, long field8, int itt,
                            int w20, int w24, int w28, int w32, int w36, int w40, int w44) {
        b.writeByte(op).writeByte(flags).writeByte(b2).writeByte(b3);
        b.writeInt(dataLength); // byte 4 TotalAHSLength is set by the caller, bytes 5-7 DataSegmentLength
        b.writeLong(field8).writeInt(itt).writeInt(w20).writeInt(w24).writeInt(w28).writeInt(w32).writeInt(w36)
                .writeInt(w40).writeInt(w44);
    }
}
