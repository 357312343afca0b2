package org.jtarget.iscsi.internal.codec;

import static org.jtarget.iscsi.internal.codec.Bhs.*;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
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
 * Writes PDUs (RFC 7143 §11). The headers (BHS, AHS, header digest) of the PDUs written between two flushes
 * are gathered in one pooled buffer, with small data segments inline; a larger data segment follows as a
 * retained reference to the PDU's own buffer (no copy), then its padding and data digest. A flush, a close or
 * a write with a promise of its own writes the gathered buffer out first, so nothing waits for more PDUs.
 * Encodes every PDU type so tests can play the initiator.
 */
public final class IscsiPduEncoder extends ChannelOutboundHandlerAdapter {
    /** Data segments up to this length are copied after their header: one buffer beats three. */
    static final int INLINE_MAX = 64;
    private static final int BATCH_CAPACITY = 4096;
    private final ConnectionSettings settings;
    /** Headers of PDUs written since the last flush (null: none). */
    private ByteBuf batch;

    public IscsiPduEncoder(ConnectionSettings settings) {
        this.settings = settings;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof IscsiPdu pdu)) {
            writeBatch(ctx);
            ctx.write(msg, promise);
            return;
        }
        try {
            encode(ctx, pdu, promise);
        } catch (RuntimeException e) {
            promise.tryFailure(e instanceof EncoderException ? e : new EncoderException(e));
        } finally {
            ReferenceCountUtil.release(pdu);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        writeBatch(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        writeBatch(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }

    private void writeBatch(ChannelHandlerContext ctx) {
        if (batch != null) {
            ByteBuf b = batch;
            batch = null;
            ctx.write(b, ctx.voidPromise());
        }
    }

    private void encode(ChannelHandlerContext ctx, IscsiPdu pdu, ChannelPromise promise) {
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
        boolean inline = dataLength > 0 && dataLength <= INLINE_MAX;
        int capacity = LENGTH + ahsLength + (headerDigest ? 4 : 0)
                + (inline ? dataLength + padding + (dataDigest ? 4 : 0) : 0);
        if (batch != null && batch.maxFastWritableBytes() < capacity) {
            writeBatch(ctx);
        }
        if (batch == null) {
            batch = ctx.alloc().directBuffer(Math.max(capacity, BATCH_CAPACITY));
        }
        ByteBuf header = batch;
        int base = header.writerIndex();
        try {
            writeBhs(header, pdu, dataLength);
            header.setByte(base + TOTAL_AHS_LENGTH, ahsLength / 4);
            if (extraCdb != null) {
                header.writeShort(extraCdb.length + 1).writeByte(1).writeByte(0).writeBytes(extraCdb);
                header.writeZero(-(extraCdb.length) & 3);
            }
            if (bidi > 0) {
                header.writeShort(5).writeByte(2).writeByte(0).writeInt(((ScsiCommand) pdu).bidiReadLength());
            }
            if (headerDigest) {
                header.writeIntLE(Crc32c.of(header, base, header.writerIndex() - base));
            }
            if (inline) {
                header.writeBytes(data, data.readerIndex(), dataLength).writeZero(padding);
                if (dataDigest) {
                    header.writeIntLE(Crc32c.ofPadded(data, padding));
                }
            }
        } catch (RuntimeException e) {
            header.writerIndex(base); // the PDUs gathered before this one stay
            throw e;
        }
        boolean own = !promise.isVoid();
        if (dataLength == 0 || inline) {
            if (own) {
                batch = null;
                ctx.write(header, promise);
            }
            return;
        }
        writeBatch(ctx);
        ByteBuf trailer = null;
        if (padding > 0 || dataDigest) {
            trailer = ctx.alloc().directBuffer(8);
            trailer.writeZero(padding);
            if (dataDigest) {
                trailer.writeIntLE(Crc32c.ofPadded(data, padding));
            }
        }
        ctx.write(data.retainedSlice(), trailer == null ? promise : ctx.voidPromise());
        if (trailer != null) {
            ctx.write(trailer, promise);
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
