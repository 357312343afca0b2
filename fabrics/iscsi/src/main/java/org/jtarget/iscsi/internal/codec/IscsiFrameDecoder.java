package org.jtarget.iscsi.internal.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.jtarget.iscsi.internal.pdu.Reject;

/**
 * Frames iSCSI PDUs (RFC 7143 §11.2) and hands each to {@link IscsiPduDecoder}.
 *
 * <pre>
 * +-----------+-----------+---------------+--------------------------+-------------+
 * | BHS (48)  | AHS (4*n) | HeaderDigest  | Data segment + pad to 4  | DataDigest  |
 * |           |           | (4, optional) | (DataSegmentLength)      | (4, if data)|
 * +-----------+-----------+---------------+--------------------------+-------------+
 * </pre>
 *
 * TotalAHSLength is BHS byte 4 (in words), DataSegmentLength bytes 5-7. Each socket read is parsed where
 * the socket put it: the data segment of a PDU is a retained slice of that buffer (no copy). Only the frame
 * that straddles two reads is copied, into a buffer of its own that the next reads complete (merging every
 * read into one growing buffer would copy each 64 KiB Data-Out payload once more). A bad data
 * digest gives a {@link MalformedPdu} (the initiator gets a Reject and may retry); a bad header digest or a
 * segment larger than our MaxRecvDataSegmentLength leave the stream unusable: a fatal MalformedPdu, and
 * all later input is discarded until the handler closes the connection. Not sharable.
 */
public final class IscsiFrameDecoder extends ChannelInboundHandlerAdapter {
    private final ConnectionSettings settings;
    private final IscsiPduDecoder pduDecoder = new IscsiPduDecoder();
    private final List<Object> out = new ArrayList<>(1);
    /** The beginning of a frame that the last read did not complete (null: none). */
    private ByteBuf pending;
    private boolean broken;

    public IscsiFrameDecoder(ConnectionSettings settings) {
        this.settings = settings;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (pending != null) {
                complete(ctx, in);
            }
            if (pending == null) {
                frames(ctx, in);
                if (in.isReadable() && !broken) {
                    ByteBuf rest = ctx.alloc().directBuffer(Math.max(wanted(in), in.readableBytes()));
                    pending = rest.writeBytes(in);
                }
            }
        } finally {
            in.release();
        }
    }

    /**
     * Copies from {@code in} what completes the pending frame, first its header (to learn its length), then
     * the rest, and passes the frame on once whole; the rest of {@code in} is left to be parsed in place.
     */
    private void complete(ChannelHandlerContext ctx, ByteBuf in) {
        int want;
        while ((want = wanted(pending) - pending.readableBytes()) > 0 && in.isReadable()) {
            int n = Math.min(want, in.readableBytes());
            if (pending.maxFastWritableBytes() < n) {
                ByteBuf whole = ctx.alloc().directBuffer(pending.readableBytes() + want);
                whole.writeBytes(pending);
                pending.release();
                pending = whole;
            }
            pending.writeBytes(in, n);
        }
        if (want <= 0) {
            frames(ctx, pending);
            if (!pending.isReadable() || broken) {
                pending.release();
                pending = null;
            }
        }
    }

    /** Passes on every whole frame at the start of {@code in}, one at a time (settings may change in between). */
    private void frames(ChannelHandlerContext ctx, ByteBuf in) {
        while (in.isReadable()) {
            decode(in, out);
            if (out.isEmpty()) {
                return;
            }
            Object pdu = out.remove(0);
            if (ctx.isRemoved()) {
                ReferenceCountUtil.release(pdu);
                return;
            }
            ctx.fireChannelRead(pdu);
        }
    }

    /**
     * The length of the frame that begins {@code in} as far as its BHS tells: the BHS alone while it is
     * incomplete, the header alone when the data segment is over the limit (decode then fails on it).
     */
    private int wanted(ByteBuf in) {
        if (in.readableBytes() < Bhs.LENGTH) {
            return Bhs.LENGTH;
        }
        int start = in.readerIndex();
        int headerLength = Bhs.LENGTH + in.getUnsignedByte(start + Bhs.TOTAL_AHS_LENGTH) * 4
                + (settings.headerDigest() ? 4 : 0);
        int dataLength = in.getUnsignedMedium(start + Bhs.DATA_SEGMENT_LENGTH);
        if (dataLength > settings.maxRecvDataSegmentLength()) {
            return headerLength;
        }
        return headerLength + dataLength + (-dataLength & 3) + (settings.dataDigest() && dataLength > 0 ? 4 : 0);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releasePending();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private void decode(ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int readable = in.readableBytes();
        if (readable < Bhs.LENGTH) {
            return;
        }
        int start = in.readerIndex();
        int headerLength = Bhs.LENGTH + in.getUnsignedByte(start + Bhs.TOTAL_AHS_LENGTH) * 4;
        int dataLength = in.getUnsignedMedium(start + Bhs.DATA_SEGMENT_LENGTH);
        int headerDigest = settings.headerDigest() ? 4 : 0;
        if (readable < headerLength + headerDigest) {
            return;
        }
        int itt = in.getInt(start + Bhs.ITT);
        if (headerDigest > 0) {
            int expected = Crc32c.of(in, start, headerLength);
            int actual = in.getIntLE(start + headerLength);
            if (expected != actual) {
                fail(in, out, Reject.PROTOCOL_ERROR, "header digest: 0x" + Integer.toHexString(actual)
                        + " (expected: 0x" + Integer.toHexString(expected) + ")", itt, start);
                return;
            }
        }
        if (dataLength > settings.maxRecvDataSegmentLength()) {
            fail(in, out, Reject.PROTOCOL_ERROR, "DataSegmentLength: " + dataLength + " (expected: <= "
                    + settings.maxRecvDataSegmentLength() + ")", itt, start);
            return;
        }
        int padding = -dataLength & 3;
        int dataDigest = settings.dataDigest() && dataLength > 0 ? 4 : 0;
        int frameLength = headerLength + headerDigest + dataLength + padding + dataDigest;
        if (readable < frameLength) {
            return;
        }
        int dataIndex = start + headerLength + headerDigest;
        if (dataDigest > 0) {
            int expected = Crc32c.of(in, dataIndex, dataLength + padding);
            int actual = in.getIntLE(dataIndex + dataLength + padding);
            if (expected != actual) {
                out.add(new MalformedPdu(Reject.DATA_DIGEST_ERROR, false, "data digest: 0x"
                        + Integer.toHexString(actual) + " (expected: 0x" + Integer.toHexString(expected) + ")", itt,
                        Unpooled.copiedBuffer(in.slice(start, Bhs.LENGTH))));
                in.skipBytes(frameLength);
                return;
            }
        }
        out.add(pduDecoder.decode(in.slice(start, headerLength), in.slice(dataIndex, dataLength)));
        in.skipBytes(frameLength);
    }

    private void fail(ByteBuf in, List<Object> out, int reason, String message, int itt, int start) {
        broken = true;
        out.add(new MalformedPdu(reason, true, message, itt, Unpooled.copiedBuffer(in.slice(start, Bhs.LENGTH))));
        in.skipBytes(in.readableBytes());
    }
}
