package org.jtarget.backstore.block.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;

/** Native addresses of Netty buffers, and buffers aligned for O_DIRECT. */
final class Buffers {
    private Buffers() {
    }

    /**
     * A direct buffer of exactly {@code length} readable bytes whose memory starts on an {@code alignment}
     * boundary: a slice of a buffer {@code alignment} bytes larger. Releasing the slice releases that buffer.
     */
    static ByteBuf aligned(ByteBufAllocator alloc, int length, int alignment) {
        ByteBuf whole = alloc.directBuffer(length + alignment, length + alignment);
        try {
            long address = address(whole, 0);
            int pad = (int) ((alignment - (address & (alignment - 1))) & (alignment - 1));
            return whole.slice(pad, length).writerIndex(length);
        } catch (RuntimeException e) {
            whole.release();
            throw e;
        }
    }

    /**
     * Whether the readable bytes of {@code b} are one piece of native memory that pread/pwrite can use in
     * place: any such piece without O_DIRECT, one aligned to a page with it.
     */
    static boolean usable(ByteBuf b, boolean direct) {
        if (!b.isDirect() || b.nioBufferCount() != 1) {
            return false;
        }
        return !direct || (address(b) & (BlockDevice.MEMORY_ALIGNMENT - 1)) == 0;
    }

    /** The native address of the readable bytes of a direct buffer that is one piece of memory. */
    static long address(ByteBuf b) {
        return address(b, b.readerIndex());
    }

    private static long address(ByteBuf b, int index) {
        if (b.hasMemoryAddress()) {
            return b.memoryAddress() + index;
        }
        if (!b.isDirect() || b.nioBufferCount() != 1) {
            throw new IllegalArgumentException("not one piece of native memory: " + b);
        }
        ByteBuffer nio = b.nioBuffer(index, Math.max(0, b.capacity() - index));
        // GetDirectBufferAddress gives the start of the buffer's memory; a view's position lies beyond it
        return Pointer.nativeValue(Native.getDirectBufferPointer(nio)) + nio.position();
    }
}
