package org.jtarget.iscsi.internal.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** The CRC examples of RFC 3720 Appendix B.4 (bytes as sent, least significant first). */
class Crc32cTest {
    private static int digestOf(byte[] bytes) {
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        ByteBuf out = Unpooled.buffer(4).writeIntLE(Crc32c.of(b, 0, 32));
        return out.getInt(0);
    }

    @Test
    void rfc3720Examples() {
        assertEquals(0xaa36918a, digestOf(new byte[32]));
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xff);
        assertEquals(0x43aba862, digestOf(ones));
        byte[] up = new byte[32];
        byte[] down = new byte[32];
        for (int i = 0; i < 32; i++) {
            up[i] = (byte) i;
            down[i] = (byte) (31 - i);
        }
        assertEquals(0x4e79dd46, digestOf(up));
        assertEquals(0x5cdb3f11, digestOf(down));
    }

    @Test
    void compositeBuffersGiveTheSameDigest() {
        byte[] data = new byte[100];
        new java.util.Random(1).nextBytes(data);
        ByteBuf whole = Unpooled.wrappedBuffer(data);
        ByteBuf parts = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(data, 0, 30), Unpooled.wrappedBuffer(data, 30, 70));
        assertEquals(Crc32c.of(whole, 0, 100), Crc32c.of(parts, 0, 100));
        assertEquals(Crc32c.of(whole, 10, 50), Crc32c.of(parts, 10, 50));
        parts.release();
    }
}
