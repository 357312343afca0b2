package org.jtarget.iscsi.internal.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
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
 * TotalAHSLength is BHS byte 4 (in words), DataSegmentLength bytes 5-7. The readerIndex moves only once a
 * whole frame is present. The data segment is a retained slice of the cumulation (no copy). A bad data
 * digest gives a {@link MalformedPdu} (the initiator gets a Reject and may retry); a bad header digest or a
 * segment larger than our MaxRecvDataSegmentLength leave the stream unusable: a fatal MalformedPdu, and
 * all later input is discarded until the handler closes the connection. Not sharable.
 */
public final class IscsiFrameDecoder extends ByteToMessageDecoder {
    private final ConnectionSettings settings;
    private final IscsiPduDecoder pduDecoder = new IscsiPduDecoder();
    private boolean broken;

    public IscsiFrameDecoder(ConnectionSettings settings) {
        this.settings = settings;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
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
