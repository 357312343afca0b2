package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** The readable bytes of a buffer as an array. */
final class ByteBufUtilBytes {
    private ByteBufUtilBytes() {
    }

    static byte[] of(ByteBuf b) {
        return ByteBufUtil.getBytes(b);
    }
}
