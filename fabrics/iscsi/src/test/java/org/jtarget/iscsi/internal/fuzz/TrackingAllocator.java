package org.jtarget.iscsi.internal.fuzz;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test can check deterministically (no GC
 * involved) that each one was released: set it as a channel's allocator and allocate test input from it.
 * Unpooled: a pool recycles released buffer objects, and a recycled one would look alive again. Composite
 * buffers are not remembered themselves, only the components allocated for them.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private final ByteBufAllocator delegate = new UnpooledByteBufAllocator(true);
    private final List<ByteBuf> allocated = new ArrayList<>();

    TrackingAllocator() {
        super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(delegate.heapBuffer(initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(delegate.directBuffer(initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buf) {
        allocated.add(buf);
        return buf;
    }

    /** A buffer holding {@code bytes}, tracked. */
    ByteBuf copyOf(byte[] bytes, int offset, int length) {
        return buffer(length).writeBytes(bytes, offset, length);
    }

    /** Fails when a buffer handed out since the last call is still referenced (and frees it); forgets them. */
    void assertAllReleased() {
        List<String> live = new ArrayList<>();
        for (ByteBuf b : allocated) {
            if (b.refCnt() != 0) {
                live.add("refCnt " + b.refCnt() + ", " + b.capacity() + " bytes: "
                        + ByteBufUtil.hexDump(b, 0, Math.min(b.capacity(), 64)));
                b.release(b.refCnt()); // reported here: the leak detector need not report it again
            }
        }
        int count = allocated.size();
        allocated.clear();
        if (!live.isEmpty()) {
            throw new AssertionError("unreleased buffers: " + live.size() + " of " + count + " (expected: 0) "
                    + live);
        }
    }
}
