package org.example.jtarget.nullstore;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreException;

/**
 * One null object. Every request is answered on the caller's thread before the method returns (nothing
 * blocks), so cancellation never finds a request of ours running, and the object holds no buffer: a
 * write's data stay the caller's (never retained), a read hands the caller a new buffer it releases.
 */
final class NullBackstore implements Backstore {
    private final int blockSize;
    private final long blockCount;

    NullBackstore(int blockSize, long blockCount) {
        this.blockSize = blockSize;
        this.blockCount = blockCount;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    /** No volatile cache: a discarded write is as durable as it will ever be. */
    @Override
    public boolean writeCacheEnabled() {
        return false;
    }

    @Override
    public String productId() {
        return "null";
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        BackstoreException bad = checkRange(lba, blocks);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        dst.writeZero(blocks * blockSize);
        return CompletableFuture.completedFuture(null);
    }

    /** Zeros straight from the allocator: no copy through {@link #read(long, int, ByteBuf)}. */
    @Override
    public CompletionStage<ByteBuf> read(long lba, int blocks, ByteBufAllocator alloc) {
        BackstoreException bad = checkRange(lba, blocks);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        int length = blocks * blockSize;
        return CompletableFuture.completedFuture(alloc.directBuffer(length, length).writeZero(length));
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        if (src.readableBytes() % blockSize != 0) {
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.INVALID_FIELD_IN_CDB,
                    "write of " + src.readableBytes() + " bytes (expected: a multiple of the block size " + blockSize + ")"));
        }
        BackstoreException bad = checkRange(lba, src.readableBytes() / blockSize);
        return bad != null ? CompletableFuture.failedFuture(bad) : CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> flush() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> close() {
        return CompletableFuture.completedFuture(null);
    }

    private BackstoreException checkRange(long lba, long blocks) {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            return new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                    "blocks " + lba + "+" + blocks + " (expected: within 0.." + (blockCount - 1) + ")");
        }
        return null;
    }
}
