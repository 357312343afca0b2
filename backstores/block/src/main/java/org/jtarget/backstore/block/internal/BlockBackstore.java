package org.jtarget.backstore.block.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
 * A backstore object on a block device (LIO iblock, tgt's rdwr on a device): positional I/O with O_DIRECT
 * on a bounded pool of the object's own threads, or on the caller's thread when that cannot block long.
 *
 * <p>Buffers: O_DIRECT needs memory aligned to the device's DMA alignment; Netty's pooled buffers are not
 * page aligned. A read allocates {@code length + 4096} bytes from the caller's allocator and hands back the
 * aligned slice of it (released with its parent), so reads are never copied. A write uses the caller's
 * buffer in place when it is one aligned piece of memory (any one piece without O_DIRECT), else it copies
 * into an aligned pooled bounce buffer on the pool thread. Writes hold a reference to their data until the
 * device is done with it, so a write the core cancels never writes freed memory.
 *
 * <p>With {@code direct=false} a read first tries the page cache on the caller's thread (preadv2 RWF_NOWAIT,
 * which fails instead of waiting for the device), as the file backstore reads: a hit costs no thread hop.
 * A write without FUA goes to the page cache on the caller's thread, as the file backstore writes (block
 * devices refuse RWF_NOWAIT writes, EOPNOTSUPP): it waits for the device only when the kernel throttles
 * dirty pages or must read a partly written page.
 *
 * <p>Caller's thread with O_DIRECT: a hand-off to the pool and back costs two thread wake-ups, more than a
 * fast device's read (a loop device over a cached file, an NVMe drive). A read or a write without FUA of at
 * most {@value #INLINE_MAX_BYTES} bytes runs on the caller when nothing else of this object is in flight,
 * none completed in the last {@value #BURST_GAP_NANOS} ns (so a burst of commands, which has more behind it,
 * still overlaps on the pool) and such calls have lately taken under {@value #INLINE_MAX_NANOS} ns on average
 * (an exponential average of every device call, per direction: a disk that seeks for milliseconds never runs
 * on the caller; a loop device or a solid-state drive, tens of microseconds, does).
 *
 * <p>Native AIO with O_DIRECT: the other reads, and writes without FUA from one aligned piece of memory, are
 * submitted from the caller's thread with io_submit ({@link Aio}, up to {@link #aioDepth} in flight) and
 * completed by one completion thread that collects them in batches: a burst costs no hand-off to a pool thread
 * and no blocked system call per request. Without AIO in the kernel, when its slots are taken, and for FUA,
 * flushes, unmaps and zeroing, the pool serves.
 *
 * <p>Queue: {@code io_threads} threads take requests from a queue of {@code queue_depth}; a request beyond
 * that completes with {@link BackstoreException#busy(String)} (TASK SET FULL), and a request cancelled
 * before a thread took it is dropped.
 *
 * <p>Durability: FUA is a write with RWF_DSYNC (the kernel sets FUA on the device's write, or flushes its
 * cache); SYNCHRONIZE CACHE is fdatasync. UNMAP ({@link BlockDevice.Unmap}) is fallocate(PUNCH_HOLE), which
 * on a block device is a discard that reads back as zeros (LBPRZ) and on a loop device punches a hole in the
 * backing file, or, where the device can only discard (or the user asks), BLKDISCARD (LBPRZ 0); WRITE SAME
 * of zeros is BLKZEROOUT (fallocate ZERO_RANGE on a regular file).
 */
final class BlockBackstore implements Backstore {
    private static final Logger LOG = LoggerFactory.getLogger(BlockBackstore.class);

    private final String name;
    private final BlockDevice device;
    private final ThreadPoolExecutor pool;
    /** Native AIO for O_DIRECT reads and writes without FUA (null: none, they go to the pool). */
    private final Aio aio;
    private final int blockSize;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean closing;

    /** Largest O_DIRECT request that may run on the caller's thread. */
    static final int INLINE_MAX_BYTES = 64 * 1024;
    /** Average device time under which an O_DIRECT request may run on the caller's thread. */
    static final long INLINE_MAX_NANOS = 500_000;
    /** A request this soon after the last completion belongs to a burst: it goes to the pool. */
    static final long BURST_GAP_NANOS = 20_000;
    /** Most requests in native AIO at once (fewer when the device's queue holds fewer, see {@link #aioDepth}). */
    static final int AIO_MAX_DEPTH = 256;
    /** Requests on the pool or on a caller's thread; close() waits for none to be left. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Exponential averages (1/8) of the device time of reads and of writes without FUA, from calls on a thread and
     * from native AIO requests that were alone in flight; unknown at first.
     */
    private volatile long readNanos = Long.MAX_VALUE / 2;
    private volatile long writeNanos = Long.MAX_VALUE / 2;
    /** System.nanoTime() when the last read or write returned from the device. */
    private volatile long lastDone;

    BlockBackstore(String name, BlockDevice device, int threads, int queueDepth) {
        this.name = name;
        this.device = device;
        this.blockSize = device.blockSize;
        AtomicInteger count = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queueDepth),
                r -> {
                    Thread t = new Thread(r, "jtarget-block-" + name + "-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.aio = device.direct && !Boolean.getBoolean("jtarget.block.noaio")
                ? Aio.open(name, device.fd(), aioDepth(queueDepth, device.queueRequests)) : null;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return device.blockCount;
    }

    @Override
    public boolean writeCacheEnabled() {
        return device.writeCache;
    }

    @Override
    public String productId() {
        return "jtarget-block";
    }

    @Override
    public BackstoreLimits limits() {
        return device.limits;
    }

    BlockDevice device() {
        return device;
    }

    /** Completes once {@link #close()} has released the device. */
    CompletionStage<Void> closed() {
        return closed;
    }

    /**
     * Requests in native AIO at once: at most {@code queue_depth}, {@value #AIO_MAX_DEPTH}, and what the device's
     * queue holds (beyond it io_submit would wait for a free request on the fabric's thread).
     */
    static int aioDepth(int queueDepth, int deviceRequests) {
        int depth = Math.min(queueDepth, AIO_MAX_DEPTH);
        return deviceRequests > 0 ? Math.min(depth, deviceRequests) : depth;
    }

    /** Whether O_DIRECT reads and writes go through native AIO here. */
    boolean nativeAio() {
        return aio != null;
    }

    /** The I/O threads (tests occupy them to fill the queue). */
    ThreadPoolExecutor pool() {
        return pool;
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        if (!inRange(lba, blocks)) {
            return outOfRange(lba, blocks);
        }
        try {
            dst.ensureWritable(blocks * blockSize);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internal(e));
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        read(lba, blocks, PooledByteBufAllocator.DEFAULT).whenComplete((data, t) -> {
            if (t != null) {
                out.completeExceptionally(t);
                return;
            }
            try {
                if (!out.isDone()) {
                    dst.writeBytes(data);
                }
                out.complete(null);
            } catch (RuntimeException e) {
                out.completeExceptionally(internal(e));
            } finally {
                data.release();
            }
        });
        return out;
    }

    @Override
    public CompletionStage<ByteBuf> read(long lba, int blocks, ByteBufAllocator alloc) {
        if (!inRange(lba, blocks)) {
            return outOfRange(lba, blocks);
        }
        int length = blocks * blockSize;
        long offset = lba * blockSize;
        if (!device.direct) { // data in the page cache: copied on the caller's thread, never waiting for the device
            if (!enter()) {
                return CompletableFuture.failedFuture(notReady());
            }
            try {
                ByteBuf cached = alignedBuffer(alloc, length);
                boolean hit = false;
                try {
                    hit = device.readCached(Buffers.address(cached), length, offset);
                } finally {
                    if (!hit) {
                        cached.release();
                    }
                }
                if (hit) {
                    return CompletableFuture.completedFuture(cached);
                }
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(internal(e));
            } finally {
                inFlight.decrementAndGet();
            }
        }
        CompletableFuture<ByteBuf> out = new CompletableFuture<>();
        Work work = () -> {
            ByteBuf buffer = alignedBuffer(alloc, length);
            try {
                long t0 = System.nanoTime();
                device.read(Buffers.address(buffer), length, offset);
                readNanos = average(readNanos, t0);
            } catch (IOException | RuntimeException e) {
                buffer.release();
                throw e;
            }
            if (!out.complete(buffer)) {
                buffer.release(); // cancelled meanwhile
            }
        };
        if (device.direct && length <= INLINE_MAX_BYTES && readNanos < INLINE_MAX_NANOS && enterIfIdle()) {
            runHere(out, work, IoErrors.Op.READ, lba);
        } else if (aio == null || !aioRead(out, alloc, length, offset, lba)) {
            submit(out, work, IoErrors.Op.READ, lba);
        }
        return out;
    }

    /** A read through native AIO; false when AIO cannot take it now (nothing done: the pool takes it). */
    private boolean aioRead(CompletableFuture<ByteBuf> out, ByteBufAllocator alloc, int length, long offset, long lba) {
        if (!enter()) {
            out.completeExceptionally(notReady());
            return true;
        }
        ByteBuf buffer;
        try {
            buffer = alignedBuffer(alloc, length);
        } catch (RuntimeException | OutOfMemoryError e) {
            inFlight.decrementAndGet();
            return false;
        }
        if (!aio(Aio.IOCB_CMD_PREAD, buffer, length, offset, lba, failure -> {
            if (failure != null) {
                buffer.release();
                out.completeExceptionally(failure);
            } else if (!out.complete(buffer)) {
                buffer.release(); // cancelled meanwhile
            }
        })) {
            buffer.release();
            return false;
        }
        return true;
    }

    /**
     * A write without FUA through native AIO; false when AIO cannot take it now (nothing done, {@code data} still
     * the caller's). Data that is not one page-aligned piece of memory (an iSCSI PDU's payload in the receive
     * buffer) is copied into an aligned buffer here first. On true, {@code data} is released, at once or when
     * the kernel is done with it.
     */
    private boolean aioWrite(CompletableFuture<Void> out, ByteBuf data, int length, long offset, long lba) {
        if (!enter()) {
            return false;
        }
        ByteBuf source = data;
        if (!Buffers.usable(data, true)) {
            try {
                source = alignedBuffer(PooledByteBufAllocator.DEFAULT, length);
            } catch (RuntimeException | OutOfMemoryError e) {
                inFlight.decrementAndGet();
                return false;
            }
            source.setBytes(0, data, data.readerIndex(), length);
        }
        ByteBuf held = source;
        if (!aio(Aio.IOCB_CMD_PWRITE, held, length, offset, lba, failure -> {
            held.release();
            if (failure == null) {
                out.complete(null);
            } else {
                out.completeExceptionally(failure);
            }
        })) {
            if (held != data) {
                held.release();
            }
            return false;
        }
        if (held != data) {
            data.release(); // copied: the caller's buffer is not needed any more
        }
        return true;
    }

    /**
     * Submits one read or write of {@code buffer}'s aligned memory to native AIO, after {@link #enter()}.
     * {@code finish} gets null when the kernel transferred all {@code length} bytes, else the failure to answer
     * (also at once when io_submit refused the request); then the request leaves {@link #inFlight}. False when
     * AIO cannot take it now: nothing done but leaving {@link #inFlight}, {@code buffer} still the caller's.
     */
    private boolean aio(short opcode, ByteBuf buffer, int length, long offset, long lba,
                        java.util.function.Consumer<BackstoreException> finish) {
        boolean read = opcode == Aio.IOCB_CMD_PREAD;
        IoErrors.Op op = read ? IoErrors.Op.READ : IoErrors.Op.WRITE;
        long t0 = System.nanoTime();
        boolean lone = aio.inFlight() == 0; // else the time includes waiting behind the others: not the device's
        try {
            boolean submitted = aio.submit(opcode, Buffers.address(buffer), length, offset, result -> {
                try {
                    if (result == length) {
                        if (!lone) {
                            lastDone = System.nanoTime();
                        } else if (read) {
                            readNanos = average(readNanos, t0);
                        } else {
                            writeNanos = average(writeNanos, t0);
                        }
                        finish.accept(null);
                    } else {
                        finish.accept(IoErrors.failure(name, device.path, op, lba,
                                aioError(read ? "read" : "write", offset, length, result)));
                    }
                } finally {
                    inFlight.decrementAndGet();
                }
            });
            if (!submitted) {
                inFlight.decrementAndGet();
            }
            return submitted;
        } catch (BlockDevice.ErrnoException e) {
            try {
                finish.accept(IoErrors.failure(name, device.path, op, lba, e));
            } finally {
                inFlight.decrementAndGet();
            }
            return true;
        }
    }

    /** The failure an AIO result other than the full length stands for: -errno, or a short transfer (EIO). */
    private BlockDevice.ErrnoException aioError(String what, long offset, int length, long result) {
        return result < 0 ? new BlockDevice.ErrnoException(what + "(" + offset + ", " + length + ")", (int) -result)
                : new BlockDevice.ErrnoException(what + "(" + offset + ", " + length + "): " + result
                        + " bytes transferred", LibC.EIO);
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        int length = src.readableBytes();
        if (length % blockSize != 0) {
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.INVALID_FIELD_IN_CDB,
                    "write length: " + length + " (expected: a multiple of " + blockSize + ")"));
        }
        if (!inRange(lba, length / blockSize)) {
            return outOfRange(lba, length / blockSize);
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        ByteBuf data = src.retainedSlice(); // ours until the device is done, even if the core cancels
        Work work = () -> {
            try {
                long t0 = System.nanoTime();
                if (Buffers.usable(data, device.direct)) {
                    device.write(Buffers.address(data), length, lba * blockSize, fua);
                } else {
                    ByteBuf bounce = alignedBuffer(PooledByteBufAllocator.DEFAULT, length);
                    try {
                        bounce.setBytes(0, data, data.readerIndex(), length);
                        device.write(Buffers.address(bounce), length, lba * blockSize, fua);
                    } finally {
                        bounce.release();
                    }
                }
                if (!fua) {
                    writeNanos = average(writeNanos, t0);
                }
            } finally {
                data.release();
            }
            out.complete(null);
        };
        boolean accepted = false;
        try {
            if (!fua && (device.direct ? length <= INLINE_MAX_BYTES && writeNanos < INLINE_MAX_NANOS && enterIfIdle()
                    : enter())) {
                accepted = true;
                runHere(out, work, IoErrors.Op.WRITE, lba);
            } else if (!fua && aio != null && aioWrite(out, data, length, lba * blockSize, lba)) {
                accepted = true;
            } else {
                accepted = submit(out, work, IoErrors.Op.WRITE, lba);
            }
        } finally {
            if (!accepted) {
                data.release();
            }
        }
        return out;
    }

    @Override
    public CompletionStage<Void> flush() {
        CompletableFuture<Void> out = new CompletableFuture<>();
        submit(out, () -> {
            device.flush();
            out.complete(null);
        }, IoErrors.Op.FLUSH, 0);
        return out;
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        return device.unmap != BlockDevice.Unmap.NONE ? Optional.of(new Thin()) : Optional.empty();
    }

    @Override
    public Optional<ZeroWriting> zeroWriting() {
        return device.zeroOut ? Optional.of(this::writeZeroes) : Optional.empty();
    }

    private CompletionStage<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean fua) {
        if (!inRange(lba, blocks)) {
            return outOfRange(lba, blocks);
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        submit(out, () -> {
            if (mayDeallocate && device.unmap == BlockDevice.Unmap.ZEROES) {
                device.punchHole(lba * blockSize, blocks * blockSize);
            } else {
                device.zeroOut(lba * blockSize, blocks * blockSize);
            }
            if (fua) {
                device.flush();
            }
            out.complete(null);
        }, IoErrors.Op.WRITE, lba);
        return out;
    }

    /** UNMAP, and GET LBA STATUS from lseek SEEK_DATA/SEEK_HOLE on a file (a device reports itself mapped). */
    private final class Thin implements ThinProvisioning {
        @Override
        public CompletionStage<Void> unmap(long lba, long blocks) {
            if (!inRange(lba, blocks)) {
                return outOfRange(lba, blocks);
            }
            CompletableFuture<Void> out = new CompletableFuture<>();
            submit(out, () -> {
                if (device.unmap == BlockDevice.Unmap.DISCARD) {
                    device.discard(lba * blockSize, blocks * blockSize);
                } else {
                    device.punchHole(lba * blockSize, blocks * blockSize);
                }
                out.complete(null);
            }, IoErrors.Op.UNMAP, lba);
            return out;
        }

        @Override
        public boolean readsZerosAfterUnmap() {
            return device.unmap == BlockDevice.Unmap.ZEROES;
        }

        @Override
        public CompletionStage<Extent> extent(long lba) {
            if (!inRange(lba, 1)) {
                return outOfRange(lba, 1);
            }
            CompletableFuture<Extent> out = new CompletableFuture<>();
            submit(out, () -> {
                if (device.blockDevice) { // a block device has no holes to show (lseek SEEK_DATA: EINVAL)
                    out.complete(new Extent(device.blockCount - lba, true));
                    return;
                }
                long offset = lba * blockSize;
                long end = device.blockCount * blockSize;
                long[] dataAndHole = device.dataAndHole(offset);
                long blocks;
                boolean mapped = dataAndHole[0] == offset;
                if (mapped) {
                    long hole = dataAndHole[1] < 0 ? end : Math.min(dataAndHole[1], end);
                    blocks = ceilBlocks(hole) - lba; // a block holding any data counts as mapped
                } else {
                    long data = dataAndHole[0] < 0 ? end : Math.min(dataAndHole[0], end);
                    blocks = data / blockSize - lba; // a block is unmapped only when wholly a hole
                }
                out.complete(new Extent(Math.max(1, blocks), mapped || blocks < 1));
            }, IoErrors.Op.READ, lba);
            return out;
        }
    }

    private long ceilBlocks(long bytes) {
        return (bytes + blockSize - 1) / blockSize;
    }

    /**
     * Waits for the requests still on the pool (a cancelled request may still run), then makes what was
     * written durable and closes the descriptor, releasing the exclusive claim. Runs on a thread of its own.
     */
    @Override
    public CompletionStage<Void> close() {
        if (closing) {
            return closed;
        }
        closing = true;
        pool.shutdown();
        Thread t = new Thread(() -> {
            try {
                while (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("backstore {}: waiting for {} requests on {} before closing", name,
                            pool.getActiveCount() + pool.getQueue().size(), device.path);
                }
                while (inFlight.get() > 0) { // requests on callers' threads (one device call each) and in AIO
                    LockSupport.parkNanos(100_000);
                }
                if (aio != null) {
                    aio.close();
                }
                try {
                    device.flush();
                } finally {
                    device.close(); // the claim goes even when the last flush failed
                }
                LOG.info("backstore {}: {} closed", name, device.path);
                closed.complete(null);
            } catch (IOException e) {
                closed.completeExceptionally(new BackstoreException(IoErrors.reason(IoErrors.Op.FLUSH, e),
                        "backstore " + name + ": closing " + device.path + " failed: " + e.getMessage(), e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closed.completeExceptionally(e);
            }
        }, "jtarget-block-close-" + name);
        t.setDaemon(true);
        t.start();
        return closed;
    }

    /** One request's work on the pool; it completes {@code out} itself, failures are mapped here. */
    private interface Work {
        void run() throws IOException;
    }

    /** Queues {@code work}; false when it was refused (then {@code out} has failed: busy or closed). */
    private boolean submit(CompletableFuture<?> out, Work work, IoErrors.Op op, long lba) {
        if (closing) {
            out.completeExceptionally(notReady());
            return false;
        }
        inFlight.incrementAndGet();
        try {
            pool.execute(() -> {
                try {
                    if (!out.isDone()) { // else cancelled while queued
                        run(out, work, op, lba);
                    }
                } finally {
                    inFlight.decrementAndGet();
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            inFlight.decrementAndGet();
            out.completeExceptionally(closing ? notReady() : BackstoreException.busy("backstore " + name + ": "
                    + pool.getQueue().size() + " requests queued for " + device.path + " (queue_depth)"));
            return false;
        }
    }

    /**
     * Counts a request on the caller's thread in flight; false (and not counted) when closing. Whoever enters
     * calls {@link #runHere} or decrements {@link #inFlight} itself.
     */
    private boolean enter() {
        inFlight.incrementAndGet();
        if (closing) { // close() sets closing before it waits for inFlight: one of the two sees the other
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    /** {@link #enter()} when nothing is in flight and the last request did not just complete (a burst). */
    private boolean enterIfIdle() {
        if (System.nanoTime() - lastDone < BURST_GAP_NANOS || !inFlight.compareAndSet(0, 1)) {
            return false;
        }
        if (closing) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Runs {@code work} on this thread after {@link #enter()}. */
    private void runHere(CompletableFuture<?> out, Work work, IoErrors.Op op, long lba) {
        try {
            run(out, work, op, lba);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void run(CompletableFuture<?> out, Work work, IoErrors.Op op, long lba) {
        try {
            work.run();
        } catch (IOException e) {
            out.completeExceptionally(IoErrors.failure(name, device.path, op, lba, e));
        } catch (RuntimeException | Error e) {
            try {
                out.completeExceptionally(internal(e));
            } finally {
                out.completeExceptionally(e); // when even that failed: never leave it pending
            }
        }
    }

    /** The new average device time after a call that started at {@code t0}; notes when it returned. */
    private long average(long old, long t0) {
        long now = System.nanoTime();
        lastDone = now;
        long took = now - t0;
        return old >= Long.MAX_VALUE / 4 ? took : old + ((took - old) >> 3);
    }

    private ByteBuf alignedBuffer(ByteBufAllocator alloc, int length) {
        return Buffers.aligned(alloc, length, BlockDevice.MEMORY_ALIGNMENT);
    }

    private BackstoreException notReady() {
        return new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, "backstore " + name + ": closed");
    }

    private BackstoreException internal(Throwable e) {
        LOG.warn("backstore {}: internal failure", name, e);
        return new BackstoreException(SenseReason.INTERNAL_TARGET_FAILURE, "backstore " + name + ": " + e, e);
    }

    private boolean inRange(long lba, long blocks) {
        return lba >= 0 && blocks >= 0 && lba <= device.blockCount - blocks;
    }

    private <T> CompletableFuture<T> outOfRange(long lba, long blocks) {
        return CompletableFuture.failedFuture(new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                "lba: " + lba + " + " + blocks + " blocks (expected: within " + device.blockCount + " blocks)"));
    }
}
