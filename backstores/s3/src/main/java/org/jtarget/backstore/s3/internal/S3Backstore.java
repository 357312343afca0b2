package org.jtarget.backstore.s3.internal;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.backstore.ZeroWriting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3 LUN: blocks mapped onto fixed-size objects through an {@link ObjectCache}. Requests run on two bounded
 * pools of this backstore (reads, and writes/flushes), so a read never waits for a write's upload; a full
 * queue answers BUSY. Sequential reads start downloading the next objects (read-ahead).
 */
final class S3Backstore implements Backstore, ThinProvisioning, ZeroWriting {
    private static final Logger LOG = LoggerFactory.getLogger(S3Backstore.class);
    /** Whole objects deleted at once by one UNMAP: at most this many DELETE requests in flight per command. */
    static final int DELETE_BATCH = 64;
    /** Objects one UNMAP descriptor may cover (MAXIMUM UNMAP LBA COUNT), so one command stays bounded. */
    static final int MAX_UNMAP_OBJECTS = 1024;
    /** How long close waits for the requests already queued (each is bounded by the client's retries). */
    static final long CLOSE_WAIT_SECONDS = 120;
    /** Objects of one read fetched ahead of the one being copied (read-ahead within a large read). */
    static final int MAX_PARALLEL_FETCH = 16;

    /** Closes what the provider opened for this backstore (pools, lease, files), after the final flush. */
    interface Closer {
        void close() throws Exception;
    }

    private final String name;
    private final int blockSize;
    private final long blockCount;
    private final ObjectCache cache;
    private final int objectSize;
    private final ExecutorService readers;
    private final ExecutorService writers;
    private final Executor closing;
    private final int readAheadObjects;
    private final Closer closer;
    private volatile long nextSequentialLba = -1;

    S3Backstore(String name, int blockSize, long blockCount, ObjectCache cache, ExecutorService readers,
                ExecutorService writers, Executor closing, int readAheadObjects, Closer closer) {
        this.name = name;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.cache = cache;
        this.objectSize = cache.objectSize();
        this.readers = readers;
        this.writers = writers;
        this.closing = closing;
        this.readAheadObjects = readAheadObjects;
        this.closer = closer;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    @Override
    public boolean writeCacheEnabled() {
        return true;
    }

    @Override
    public String productId() {
        return "jtarget-s3";
    }

    /** Transfers of whole objects perform best: the object size is the optimal granularity and unmap unit. */
    @Override
    public BackstoreLimits limits() {
        long max = BackstoreLimits.DEFAULT.maxTransferBytes();
        return BackstoreLimits.DEFAULT
                .withOptimalTransferBytes(Math.min(max, Math.max(objectSize, BackstoreLimits.DEFAULT.optimalTransferBytes())))
                .withOptimalGranularityBytes(objectSize)
                .withUnmap((long) MAX_UNMAP_OBJECTS * objectSize, objectSize);
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        return submit(readers, () -> {
            checkRange(lba, blocks);
            long pos = lba * blockSize;
            long end = pos + (long) blocks * blockSize;
            long firstObject = pos / objectSize;
            long lastObject = (end - 1) / objectSize;
            for (long o = firstObject + 1; o <= Math.min(lastObject, firstObject + MAX_PARALLEL_FETCH); o++) {
                cache.prefetch(o); // a read of many objects downloads them in parallel, not one after the other
            }
            while (pos < end) {
                long object = pos / objectSize;
                int offset = (int) (pos % objectSize);
                int n = (int) Math.min(end - pos, objectSize - offset);
                cache.read(object, offset, n, dst);
                pos += n;
            }
            boolean sequential = lba == nextSequentialLba;
            nextSequentialLba = lba + blocks;
            if (sequential && readAheadObjects > 0) {
                long last = (end - 1) / objectSize;
                long objects = (blockCount * blockSize + objectSize - 1) / objectSize;
                for (long o = last + 1; o <= last + readAheadObjects && o < objects; o++) {
                    cache.prefetch(o);
                }
            }
        });
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        ByteBuf data = src.retainedSlice(); // ours until the write is done, even if the core gives up on it
        return submit(writers, data::release, () -> {
            try {
                checkRange(lba, data.readableBytes() / blockSize);
                List<Long> touched = new ArrayList<>();
                long pos = lba * blockSize;
                long end = pos + data.readableBytes();
                int done = 0;
                while (pos < end) {
                    long object = pos / objectSize;
                    int offset = (int) (pos % objectSize);
                    int n = (int) Math.min(end - pos, objectSize - offset);
                    cache.write(object, offset, n, data.slice(data.readerIndex() + done, n));
                    touched.add(object);
                    pos += n;
                    done += n;
                }
                if (fua) {
                    cache.flush(new java.util.HashSet<>(touched));
                }
            } finally {
                data.release();
            }
        });
    }

    @Override
    public CompletionStage<Void> flush() {
        return submit(writers, () -> cache.flushAll());
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        return Optional.of(this);
    }

    @Override
    public Optional<ZeroWriting> zeroWriting() {
        return Optional.of(this);
    }

    /** Whole objects are deleted at once (durable when done); parts of objects are written with zeros. */
    @Override
    public CompletionStage<Void> unmap(long lba, long blocks) {
        return writeZeroes(lba, blocks, true, false);
    }

    @Override
    public CompletionStage<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean fua) {
        return submit(writers, () -> {
            checkRange(lba, blocks);
            long pos = lba * blockSize;
            long end = pos + blocks * blockSize;
            List<Long> partial = new ArrayList<>();
            List<Long> whole = new ArrayList<>();
            while (pos < end) {
                long object = pos / objectSize;
                int offset = (int) (pos % objectSize);
                int n = (int) Math.min(end - pos, objectSize - offset);
                if (n == objectSize || isLastObjectTail(object, offset, n)) {
                    whole.add(object);
                    if (whole.size() == DELETE_BATCH) {
                        cache.delete(whole);
                        whole.clear();
                    }
                } else {
                    cache.write(object, offset, n, null);
                    partial.add(object);
                }
                pos += n;
            }
            if (!whole.isEmpty()) {
                cache.delete(whole);
            }
            if (fua) {
                cache.flush(new java.util.HashSet<>(partial));
            }
        });
    }

    private void checkRange(long lba, long blocks) throws BackstoreException {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            throw new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, name + ": blocks " + lba
                    + " to " + (lba + blocks - 1) + " (expected: within 0 to " + (blockCount - 1) + ")");
        }
    }

    /** The last object may be cut short by the LUN's end: zeroing all of it that exists is the whole object. */
    private boolean isLastObjectTail(long object, int offset, int n) {
        long capacity = blockCount * blockSize;
        return offset == 0 && (long) object * objectSize + n == capacity;
    }

    /** The state of the object holding {@code lba}: mapped when cached or stored, for the rest of that object. */
    @Override
    public CompletionStage<Extent> extent(long lba) {
        CompletableFuture<Extent> out = new CompletableFuture<>();
        try {
            readers.execute(() -> {
                try {
                    checkRange(lba, 1);
                    long object = lba * blockSize / objectSize;
                    long objectEndLba = Math.min(blockCount, (object + 1) * objectSize / blockSize);
                    out.complete(new Extent(objectEndLba - lba, cache.mapped(object)));
                } catch (BackstoreException | RuntimeException e) {
                    out.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            out.completeExceptionally(BackstoreException.busy(name + ": too many requests queued"));
        }
        return out;
    }

    /** Uploads what is dirty (what fails stays in the cache file for the next open), then releases everything. */
    @Override
    public CompletionStage<Void> close() {
        CompletableFuture<Void> out = new CompletableFuture<>();
        Runnable close = () -> {
            readers.shutdown(); // what is queued still runs; nothing new is taken (NOT READY)
            writers.shutdown();
            try {
                if (!readers.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)
                        || !writers.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    LOG.warn("backstore {}: requests still running after {} s; closing anyway", name, CLOSE_WAIT_SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                cache.flushAll();
            } catch (BackstoreException e) {
                LOG.warn("backstore {}: {} objects stay in the local cache and are uploaded at the next open: {}",
                        name, cache.dirtyObjects(), e.getMessage());
            }
            try {
                cache.close();
                closer.close();
                out.complete(null);
            } catch (Exception e) {
                out.completeExceptionally(e);
            }
        };
        try {
            closing.execute(close);
        } catch (RejectedExecutionException e) { // the provider is gone already: close on a thread of our own
            Thread t = new Thread(close, "jtarget-s3-" + name + "-close");
            t.setDaemon(true);
            t.start();
        }
        return out;
    }

    private interface Io {
        void run() throws BackstoreException;
    }

    private CompletionStage<Void> submit(ExecutorService pool, Io io) {
        return submit(pool, () -> { }, io);
    }

    /**
     * Runs {@code io} on the pool. When the pool refuses it (BUSY, or NOT READY once closed) or the core cancelled
     * it before it started, {@code io} does not run and {@code refused} does (it releases what {@code io} would have).
     */
    private CompletionStage<Void> submit(ExecutorService pool, Runnable refused, Io io) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        try {
            pool.execute(() -> {
                if (out.isCancelled()) { // the core gave up on it while it was queued: do nothing
                    refused.run();
                    return;
                }
                try {
                    io.run();
                    out.complete(null);
                } catch (BackstoreException e) {
                    out.completeExceptionally(e);
                } catch (RuntimeException e) {
                    out.completeExceptionally(new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                            name + ": " + e, e));
                }
            });
        } catch (RejectedExecutionException e) {
            refused.run();
            out.completeExceptionally(pool.isShutdown()
                    ? new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, name + ": closed")
                    : BackstoreException.busy(name + ": too many requests queued"));
        }
        return out;
    }

    @Override
    public String toString() {
        return "S3Backstore[" + name + "]";
    }
}
