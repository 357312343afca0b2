package org.jtarget.iscsi.internal.codec;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * iSCSI header and data digests: CRC32C (RFC 7143 §13.1, RFC 3720 Appendix B.4), computed with
 * {@link CRC32C} over a buffer's NIO views without copying. On the wire the digest is sent least significant
 * byte first (the B.4 example: 32 zero bytes give the bytes aa 36 91 8a).
 */
public final class Crc32c {
    private Crc32c() {
    }

    /** The CRC32C of {@code length} bytes of {@code buf} from {@code index}; does not move the indexes. */
    public static int of(ByteBuf buf, int index, int length) {
        CRC32C crc = new CRC32C();
        update(crc, buf, index, length);
        return (int) crc.getValue();
    }

    static void update(CRC32C crc, ByteBuf buf, int index, int length) {
        if (length == 0) {
            return;
        }
        if (buf.nioBufferCount() == 1) {
            crc.update(buf.nioBuffer(index, length));
        } else {
            for (ByteBuffer b : buf.nioBuffers(index, length)) {
                crc.update(b);
            }
        }
    }

    /** CRC32C of {@code data} followed by {@code padding} zero bytes (data digests cover the padding). */
    public static int ofPadded(ByteBuf data, int padding) {
        CRC32C crc = new CRC32C();
        update(crc, data, data.readerIndex(), data.readableBytes());
        if (padding > 0) {
            crc.update(new byte[padding], 0, padding);
        }
        return (int) crc.getValue();
    }
}
