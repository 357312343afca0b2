package org.jtarget.backstore.memory.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ByteProcessor;
import io.netty.util.IllegalReferenceCountException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.Completions;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A RAM disk (LIO rd_mcp) allocated lazily in 1 MiB chunks: a large sparse disk costs only what is written.
 *
 * <p>Memory. Chunks are direct (off-heap) buffers, so a RAM disk never competes with the Java heap
 * (bin/jtarget runs with -XX:+ExitOnOutOfMemoryError). Each chunk is charged to the provider's
 * {@link MemoryBudget} before it is allocated; a write that needs a chunk the budget cannot pay for,
 * or that the JVM refuses, fails with DATA PROTECT / SPACE ALLOCATION FAILED WRITE PROTECT (SBC-3
 * 4.7.3.7, thin provisioning out of space). Blocks written before stay readable. Zeros written where no
 * chunk exists allocate nothing: absent chunks already read as zeros (LBPRZ), so WRITE SAME of zeros
 * over a whole LUN (the defect that took a JVM down) costs a scan, not memory.
 *
 * <p>Freeing. UNMAP of whole chunks and {@link #close()} release them at once ({@link ByteBuf#release()}
 * frees the native memory without waiting for the collector) and credit the budget.
 *
 * <p>Threads: every call runs on the caller; there is nothing to wait for. Concurrent I/O to
 * non-overlapping ranges is safe: a chunk is installed with a CAS, and disjoint ranges of one chunk do
 * not interfere. Every access holds a reference on its chunk for the copy, so an UNMAP or a close
 * racing it (the core closes after a drain timeout even if commands still run) frees the chunk only
 * after the copy: a racing command reads stale bytes or zeros, never freed memory. Visibility between a
 * write and a later read on another thread comes from the completion hand-off the core performs
 * between them.
 */
final class MemoryBackstore implements Backstore, ThinProvisioning {
    static final int CHUNK_SHIFT = 20;
    static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;
    private static final Logger LOG = LoggerFactory.getLogger(MemoryBackstore.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final String name;
    private final int blockSize;
    private final long blockCount;
    private final long capacity;
    private final MemoryBudget budget;
    private final ByteBufAllocator allocator;
    private final AtomicReferenceArray<ByteBuf> chunks;
    /** Bytes of chunks this backstore holds; the budget holds the sum over all backstores. */
    private final AtomicLong allocated = new AtomicLong();

    MemoryBackstore(String name, int blockSize, long blockCount, MemoryBudget budget, ByteBufAllocator allocator) {
        this.name = name;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.capacity = blockCount * blockSize;
        this.budget = budget;
        this.allocator = allocator;
        long count = (capacity + CHUNK_SIZE - 1) >>> CHUNK_SHIFT;
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: < 2 PiB)");
        }
        this.chunks = new AtomicReferenceArray<>((int) count);
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    /** RAM has no volatile cache to flush: WCE is off, and FUA and SYNCHRONIZE CACHE have nothing to do. */
    @Override
    public boolean writeCacheEnabled() {
        return false;
    }

    @Override
    public String productId() {
        return "jtarget-memory";
    }

    /**
     * Atomic writes up to the maximum transfer: the data do not outlive the process, so no crash can leave a
     * write half done for anyone to read, and the core's gate keeps every write whole to other commands.
     */
    private static final BackstoreLimits LIMITS =
            BackstoreLimits.DEFAULT.withMaxAtomicBytes(BackstoreLimits.DEFAULT.maxTransferBytes());

    /** {@link #LIMITS}: one object, since the core asks for the limits on every READ and WRITE. */
    @Override
    public BackstoreLimits limits() {
        return LIMITS;
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        try {
            int length = checkRange(lba, blocks);
            dst.ensureWritable(length);
            long offset = lba * blockSize;
            int done = 0;
            while (done < length) {
                long at = offset + done;
                int index = (int) (at >>> CHUNK_SHIFT);
                int within = (int) (at & (CHUNK_SIZE - 1));
                int n = Math.min(length - done, chunkLength(index) - within);
                ByteBuf chunk = acquire(index);
                if (chunk == null) {
                    dst.writeZero(n); // never written or unmapped: zeros (SBC-3 4.7.4.5, LBPRZ)
                } else {
                    try {
                        dst.writeBytes(chunk, within, n);
                    } finally {
                        release(chunk);
                    }
                }
                done += n;
            }
            return DONE;
        } catch (BackstoreException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internalFailure(e)); // e.g. a destination that cannot grow
        }
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        try {
            int length = src.readableBytes();
            if (length % blockSize != 0) {
                throw new BackstoreException(SenseReason.INVALID_FIELD_IN_CDB,
                        "write length: " + length + " (expected: a multiple of " + blockSize + ")");
            }
            checkRange(lba, length / blockSize);
            long offset = lba * blockSize;
            int readerIndex = src.readerIndex();
            int done = 0;
            while (done < length) {
                long at = offset + done;
                int index = (int) (at >>> CHUNK_SHIFT);
                int within = (int) (at & (CHUNK_SIZE - 1));
                int n = Math.min(length - done, chunkLength(index) - within);
                ByteBuf chunk = acquire(index);
                if (chunk == null) {
                    if (isZero(src, readerIndex + done, n)) {
                        done += n; // an absent chunk already reads as zeros
                        continue;
                    }
                    chunk = install(index);
                }
                try {
                    chunk.setBytes(within, src, readerIndex + done, n);
                } finally {
                    release(chunk);
                }
                done += n;
            }
            return DONE;
        } catch (BackstoreException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internalFailure(e)); // e.g. a source released too early
        }
    }

    @Override
    public CompletionStage<Void> flush() {
        return DONE;
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        return Optional.of(this);
    }

    /** Frees the chunks the range covers entirely and zeroes the parts of the others. */
    @Override
    public CompletionStage<Void> unmap(long lba, long blocks) {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                    "lba: " + lba + " + " + blocks + " blocks (expected: <= " + blockCount + ")"));
        }
        long start = lba * blockSize;
        long end = start + blocks * blockSize;
        while (start < end) {
            int index = (int) (start >>> CHUNK_SHIFT);
            int within = (int) (start & (CHUNK_SIZE - 1));
            int n = (int) Math.min(end - start, chunkLength(index) - within);
            if (within == 0 && n == chunkLength(index)) {
                release(chunks.getAndSet(index, null));
            } else {
                ByteBuf chunk = acquire(index);
                if (chunk != null) {
                    try {
                        chunk.setZero(within, n);
                    } finally {
                        release(chunk);
                    }
                }
            }
            start += n;
        }
        return DONE;
    }

    /** Mapped state by chunk: a chunk holding any written byte counts as mapped in full. */
    @Override
    public CompletionStage<Extent> extent(long lba) {
        return Completions.now(() -> {
            long e = extentNow(lba);
            return new Extent(Math.abs(e), e > 0);
        });
    }

    /** The extent at {@code lba} in blocks, negative when deallocated. */
    long extentNow(long lba) {
        if (lba < 0 || lba >= blockCount) {
            throw new IllegalArgumentException("lba: " + lba + " (expected: < " + blockCount + ")");
        }
        int first = (int) ((lba * blockSize) >>> CHUNK_SHIFT);
        boolean mapped = chunks.get(first) != null;
        int last = first;
        while (last + 1 < chunks.length() && (chunks.get(last + 1) != null) == mapped) {
            last++;
        }
        long endByte = Math.min(capacity, ((long) last + 1) << CHUNK_SHIFT);
        long blocks = Math.max(1, endByte / blockSize - lba);
        return mapped ? blocks : -blocks;
    }

    /** Bytes of memory held by this backstore's chunks now. */
    long allocatedBytes() {
        return allocated.get();
    }

    /** Frees every chunk and returns its memory to the budget. */
    @Override
    public CompletionStage<Void> close() {
        closeNow();
        return CompletableFuture.completedFuture(null);
    }

    /** Flushes and releases the storage at once. */
    void closeNow() {
        for (int i = 0; i < chunks.length(); i++) {
            release(chunks.getAndSet(i, null));
        }
    }

    /**
     * The chunk at {@code index} with a reference held for the caller (who releases it), or null when
     * the chunk is absent. A chunk freed between the load and the retain is absent.
     */
    private ByteBuf acquire(int index) {
        for (;;) {
            ByteBuf chunk = chunks.get(index);
            if (chunk == null) {
                return null;
            }
            try {
                return chunk.retain();
            } catch (IllegalReferenceCountException e) {
                // Freed by a racing unmap or close, which cleared the slot first: load it again.
            }
        }
    }

    /**
     * Allocates, zeroes and installs the chunk at {@code index}, or takes the one a racing write
     * installed first; returned with a reference held for the caller.
     */
    private ByteBuf install(int index) throws BackstoreException {
        int size = chunkLength(index);
        for (;;) {
            if (!budget.tryCharge(size)) {
                if (budget.firstRefusal()) {
                    LOG.warn("memory backstore {}: the memory budget of {} for all memory backstores is used up; "
                            + "writes to unwritten areas fail with SPACE ALLOCATION FAILED until blocks are unmapped "
                            + "or backstores deleted (raise -D{} and -XX:MaxDirectMemorySize for more)",
                            name, MemoryBudget.format(budget.max()), MemoryBackstoreProvider.MAX_PROPERTY);
                }
                throw outOfSpace(size, null);
            }
            ByteBuf fresh;
            try {
                fresh = allocator.directBuffer(size, size);
                fresh.setZero(0, size); // allocators that skip the JDK's zeroing hand out old bytes
            } catch (OutOfMemoryError e) {
                // The JVM's direct-memory limit (e.g. network buffers took their share): also out of space.
                budget.credit(size);
                throw outOfSpace(size, e);
            }
            allocated.addAndGet(size);
            fresh.retain(); // one reference for the table, one for the caller
            if (chunks.compareAndSet(index, null, fresh)) {
                return fresh;
            }
            fresh.release();
            release(fresh); // a racing write installed one first
            ByteBuf winner = acquire(index);
            if (winner != null) {
                return winner;
            }
        }
    }

    /**
     * Drops one reference (the table's, or an access's): whoever drops the last one, an UNMAP or an
     * access that raced it, frees the memory and credits the budget.
     */
    private void release(ByteBuf chunk) {
        if (chunk == null) {
            return;
        }
        int size = chunk.capacity();
        if (chunk.release()) {
            allocated.addAndGet(-size);
            budget.credit(size);
        }
    }

    private BackstoreException outOfSpace(int size, Throwable cause) {
        // Thin provisioning ran out of space (SBC-3 4.7.3.7).
        return new BackstoreException(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT,
                "backstore " + name + ": no memory for a " + size + "-byte chunk (budget: "
                        + MemoryBudget.format(budget.used()) + " of " + MemoryBudget.format(budget.max()) + " used)",
                cause);
    }

    /**
     * Whether {@code length} bytes of {@code src} from {@code index} are all zero. A single-buffer
     * source is scanned as longs through one NIO view (one leak-detector record, not one per long);
     * a composite one byte by byte inside Netty.
     */
    static boolean isZero(ByteBuf src, int index, int length) {
        if (src.nioBufferCount() == 1) {
            ByteBuffer b = src.nioBuffer(index, length);
            int i = b.position();
            int end = b.limit();
            for (; i <= end - Long.BYTES; i += Long.BYTES) {
                if (b.getLong(i) != 0) {
                    return false;
                }
            }
            for (; i < end; i++) {
                if (b.get(i) != 0) {
                    return false;
                }
            }
            return true;
        }
        return src.forEachByte(index, length, ByteProcessor.FIND_NON_NUL) == -1;
    }

    /** A caller's mistake (SPI misuse), reported as HARDWARE ERROR / INTERNAL TARGET FAILURE. */
    private BackstoreException internalFailure(RuntimeException e) {
        return new BackstoreException(SenseReason.INTERNAL_TARGET_FAILURE, "backstore " + name + ": " + e, e);
    }

    /** The last chunk is shorter when the capacity is not a whole number of chunks. */
    private int chunkLength(int index) {
        return (int) Math.min(CHUNK_SIZE, capacity - ((long) index << CHUNK_SHIFT));
    }

    private int checkRange(long lba, long blocks) throws BackstoreException {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            throw new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                    "lba: " + lba + " + " + blocks + " blocks (expected: <= " + blockCount + ")");
        }
        if (blocks > Integer.MAX_VALUE / blockSize) {
            throw new BackstoreException(SenseReason.INVALID_FIELD_IN_CDB,
                    "blocks: " + blocks + " (expected: <= " + Integer.MAX_VALUE / blockSize + ")");
        }
        return (int) blocks * blockSize;
    }
}
