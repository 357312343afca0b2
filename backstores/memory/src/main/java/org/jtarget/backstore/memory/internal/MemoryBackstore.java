package org.jtarget.backstore.memory.internal;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.ThinProvisioning;

/**
 * A RAM disk (LIO rd_mcp) allocated lazily in chunks: a large sparse disk costs only what is written.
 * Chunks are heap arrays, not direct memory: a command racing an UNMAP (a core bug) then reads stale
 * bytes instead of freed native memory, and the collector returns freed chunks without our help.
 *
 * <p>Threads: every call runs on the caller; there is nothing to wait for. Concurrent I/O to
 * non-overlapping ranges is safe: a chunk is installed with a CAS, and disjoint ranges of one array do
 * not interfere. Visibility between a write and a later read on another thread comes from the
 * completion hand-off the core performs between them.
 */
final class MemoryBackstore implements Backstore, ThinProvisioning {
    static final int CHUNK_SHIFT = 20;
    static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final String name;
    private final int blockSize;
    private final long blockCount;
    private final long capacity;
    private final AtomicReferenceArray<byte[]> chunks;

    MemoryBackstore(String name, int blockSize, long blockCount) {
        this.name = name;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.capacity = blockCount * blockSize;
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
                byte[] chunk = chunks.get(index);
                if (chunk == null) {
                    dst.writeZero(n); // never written or unmapped: zeros (SBC-3 4.7.4.5, LBPRZ)
                } else {
                    dst.writeBytes(chunk, within, n);
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
                src.getBytes(readerIndex + done, allocate(index), within, n);
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
                chunks.set(index, null);
            } else {
                byte[] chunk = chunks.get(index);
                if (chunk != null) {
                    Arrays.fill(chunk, within, within + n, (byte) 0);
                }
            }
            start += n;
        }
        return DONE;
    }

    /** Mapped state by chunk: a chunk holding any written byte counts as mapped in full. */
    @Override
    public long extent(long lba) {
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

    /** Bytes of memory held by chunks now. */
    long allocatedBytes() {
        long total = 0;
        for (int i = 0; i < chunks.length(); i++) {
            byte[] chunk = chunks.get(i);
            total += chunk == null ? 0 : chunk.length;
        }
        return total;
    }

    @Override
    public void close() {
        for (int i = 0; i < chunks.length(); i++) {
            chunks.set(i, null);
        }
    }

    private byte[] allocate(int index) throws BackstoreException {
        byte[] chunk = chunks.get(index);
        if (chunk != null) {
            return chunk;
        }
        try {
            chunk = new byte[chunkLength(index)];
        } catch (OutOfMemoryError e) {
            // Thin provisioning ran out of space (SBC-3 4.7.3.7).
            throw new BackstoreException(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT,
                    "backstore " + name + ": out of memory for a " + chunkLength(index) + "-byte chunk");
        }
        return chunks.compareAndSet(index, null, chunk) ? chunk : chunks.get(index);
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
