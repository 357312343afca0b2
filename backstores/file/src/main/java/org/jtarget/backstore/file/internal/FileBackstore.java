package org.jtarget.backstore.file.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.Completions;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.CryptographicErase;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backstore object kept in a regular file (LIO target_core_file.c), with positional I/O straight
 * between the file and the command's ByteBuf (no copy for direct buffers).
 *
 * <p>Threads: reads and writes run on the caller. Measured on this project's 2-core VM (JDK 17, ext4,
 * data in the page cache): a 4 KiB pread costs ~0.7 us on the caller and ~7 us when handed to a pool
 * and joined, so a hop would cost ten times the work itself; a page-cache miss does block the caller
 * for one device read, which a fabric accepts as it accepts any slow command. {@code force()} costs
 * ~300 us there (milliseconds on disks) and would stall every session of an event loop, so flushes
 * (SYNCHRONIZE CACHE, FUA, write-through) run on the provider's small sync pool. Flush requests that
 * arrive while one is still queued share it (group commit, cf. Disruptor's endOfBatch): a force that
 * starts after a write completed covers that write.
 *
 * <p>With {@code encryption=aes-256-ctr} ({@link Encryption}) a write is encrypted into a pooled direct
 * buffer (the caller's {@code src} is never modified) and a read is decrypted in the destination; then
 * SANITIZE CRYPTOGRAPHIC ERASE is offered. Unwritten and unmapped blocks still read as zeros.
 */
final class FileBackstore implements Backstore {
    private static final Logger LOG = LoggerFactory.getLogger(FileBackstore.class);
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    /** Bytes encrypted per pooled buffer while writing. */
    private static final int CRYPT_CHUNK = 256 * 1024;

    private final String name;
    private final Path path;
    private final int blockSize;
    private final long blockCount;
    private final boolean writeCache;
    private final Executor syncExecutor;
    private final NativeFiles nativeFiles;
    private final Encryption encryption;
    private final Object forceLock = new Object();
    private final FailureLog failureLog = new FailureLog();
    private volatile FileChannel channel;
    /** A force queued on the sync pool that has not started yet; new flushes join it. Guarded by forceLock. */
    private CompletableFuture<Void> queuedForce;

    FileBackstore(String name, Path path, FileChannel channel, int blockSize, long blockCount, boolean writeCache,
                  Executor syncExecutor, NativeFiles nativeFiles) {
        this(name, path, channel, blockSize, blockCount, writeCache, syncExecutor, nativeFiles, null);
    }

    FileBackstore(String name, Path path, FileChannel channel, int blockSize, long blockCount, boolean writeCache,
                  Executor syncExecutor, NativeFiles nativeFiles, Encryption encryption) {
        this.encryption = encryption;
        this.name = name;
        this.path = path;
        this.channel = channel;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.writeCache = writeCache;
        this.syncExecutor = syncExecutor;
        this.nativeFiles = nativeFiles;
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
        return writeCache;
    }

    @Override
    public String productId() {
        return "jtarget-file";
    }

    Path path() {
        return path;
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        try {
            int length = checkRange(lba, blocks);
            dst.ensureWritable(length);
            int writerIndex = dst.writerIndex();
            long position = lba * blockSize;
            if (encryption != null) {
                readDecrypted(dst, writerIndex, length, position);
            } else if (dst.nioBufferCount() > 0) {
                for (ByteBuffer part : dst.nioBuffers(writerIndex, length)) {
                    position += readFully(part, position);
                }
            } else {
                // No NIO view shares this buffer's memory: read into a temporary one and copy.
                ByteBuffer tmp = ByteBuffer.allocate(length);
                readFully(tmp, position);
                dst.setBytes(writerIndex, tmp.flip());
            }
            dst.writerIndex(writerIndex + length);
            return DONE;
        } catch (BackstoreException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internalFailure(e)); // e.g. a destination that cannot grow
        } catch (IOException e) {
            return CompletableFuture.failedFuture(ioFailure(IoFailures.Op.READ, lba, e));
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
            long position = lba * blockSize;
            if (encryption != null) {
                writeEncrypted(src, length, position);
            } else {
                for (ByteBuffer part : src.nioBuffers(src.readerIndex(), length)) {
                    position += writeFully(part, position);
                }
            }
        } catch (BackstoreException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internalFailure(e));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(ioFailure(IoFailures.Op.WRITE, lba, e));
        }
        // FUA (SBC-3 5.39): durable before completion. Without the write cache every write is FUA.
        return fua || !writeCache ? force() : DONE;
    }

    @Override
    public CompletionStage<Void> flush() {
        return force();
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        return nativeFiles == null ? Optional.empty() : Optional.of(new Thin());
    }

    @Override
    public Optional<CryptographicErase> cryptographicErase() {
        return encryption == null ? Optional.empty() : Optional.of(this::eraseKey);
    }

    /** SBC-3 5.30.4: a new key; what is stored now decrypts to other data, unwritten blocks to zeros. */
    private CompletionStage<Void> eraseKey() {
        try {
            encryption.eraseKey();
            LOG.info("backstore {}: encryption key of {} replaced (cryptographic erase)", name, path);
            return DONE;
        } catch (IOException e) {
            LOG.warn("backstore {}: replacing the key in {} failed: {}", name, encryption.keyFile(), e.toString());
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.WRITE_ERROR,
                    "backstore " + name + ": cryptographic erase failed: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internalFailure(e));
        }
    }

    /** Encrypts {@code src} chunk by chunk in a pooled direct buffer and writes that; src is only read. */
    private void writeEncrypted(ByteBuf src, int length, long position) throws IOException {
        ByteBuf tmp = PooledByteBufAllocator.DEFAULT.directBuffer(Math.min(length, CRYPT_CHUNK));
        try {
            int done = 0;
            while (done < length) {
                int n = Math.min(length - done, tmp.capacity());
                // Copy, then encrypt in place: the pieces of a composite src need not end on 16-byte boundaries.
                tmp.setBytes(0, src, src.readerIndex() + done, n);
                ByteBuffer buf = tmp.internalNioBuffer(0, n);
                int start = buf.position();
                encryption.encrypt(buf.duplicate(), buf, position + done);
                buf.position(start);
                writeFully(buf, position + done);
                done += n;
            }
        } finally {
            tmp.release();
        }
    }

    /**
     * Reads and decrypts in place when {@code dst} exposes one NIO buffer for the range; otherwise through
     * a pooled contiguous buffer (decryption works on whole blocks).
     */
    private void readDecrypted(ByteBuf dst, int writerIndex, int length, long position) throws IOException {
        if (dst.nioBufferCount() == 1) {
            ByteBuffer part = dst.nioBuffer(writerIndex, length);
            int start = part.position();
            readFully(part, position);
            part.position(start);
            encryption.decrypt(part, position);
            return;
        }
        ByteBuf tmp = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        try {
            ByteBuffer part = tmp.internalNioBuffer(0, length);
            int start = part.position();
            readFully(part, position);
            part.position(start);
            encryption.decrypt(part, position);
            dst.setBytes(writerIndex, tmp, 0, length);
        } finally {
            tmp.release();
        }
    }

    private int writeFully(ByteBuffer src, long position) throws IOException {
        int length = src.remaining();
        long p = position;
        while (src.hasRemaining()) {
            p += channel.write(src, p);
        }
        return length;
    }

    @Override
    public CompletionStage<Void> close() {
        closeNow();
        return CompletableFuture.completedFuture(null);
    }

    /** Flushes and releases the storage at once. */
    void closeNow() {
        try {
            channel.force(false);
        } catch (IOException e) {
            LOG.warn("backstore {}: flush on close of {} failed", name, path, e);
        }
        try {
            channel.close(); // releases the file lock
        } catch (IOException e) {
            LOG.warn("backstore {}: close of {} failed", name, path, e);
        }
    }

    private CompletableFuture<Void> force() {
        CompletableFuture<Void> result;
        synchronized (forceLock) {
            if (queuedForce != null) {
                return queuedForce;
            }
            result = new CompletableFuture<>();
            queuedForce = result;
        }
        try {
            syncExecutor.execute(() -> {
                synchronized (forceLock) {
                    if (queuedForce == result) {
                        queuedForce = null; // later flushes need a later force
                    }
                }
                try {
                    channel.force(false);
                    result.complete(null);
                } catch (IOException e) {
                    result.completeExceptionally(ioFailure(IoFailures.Op.FLUSH, -1, e));
                } catch (RuntimeException | Error e) {
                    // whatever happens, the commands waiting on this force complete (no hung command)
                    result.completeExceptionally(new BackstoreException(SenseReason.INTERNAL_TARGET_FAILURE,
                            "backstore " + name + ": flush failed: " + e, e));
                    if (e instanceof Error error) {
                        throw error;
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            synchronized (forceLock) {
                if (queuedForce == result) {
                    queuedForce = null;
                }
            }
            result.completeExceptionally(new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY,
                    "backstore " + name + ": provider is stopping", e));
        }
        return result;
    }

    /** Reads until {@code dst} is full; bytes past the end of a short file read as zeros. */
    private int readFully(ByteBuffer dst, long position) throws IOException {
        int length = dst.remaining();
        long p = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, p);
            if (n < 0) {
                while (dst.hasRemaining()) {
                    ByteBuffer zeros = ZEROS.duplicate();
                    zeros.limit(Math.min(zeros.capacity(), dst.remaining()));
                    dst.put(zeros);
                }
                break;
            }
            p += n;
        }
        return length;
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

    /** A caller's mistake (SPI misuse), reported as HARDWARE ERROR / INTERNAL TARGET FAILURE. */
    private BackstoreException internalFailure(RuntimeException e) {
        return new BackstoreException(SenseReason.INTERNAL_TARGET_FAILURE, "backstore " + name + ": " + e, e);
    }

    /** The sense of a failed file operation ({@link IoFailures}); logged at WARN once per reason and 10 s. */
    private BackstoreException ioFailure(IoFailures.Op op, long lba, IOException e) {
        if (e instanceof ClosedByInterruptException) {
            // An interrupt closes a FileChannel for every thread; reopen it so that only this command fails.
            reopen();
        }
        SenseReason reason = IoFailures.reason(op, e);
        String what = op.name().toLowerCase(java.util.Locale.ROOT);
        if (failureLog.shouldWarn(reason)) {
            LOG.warn("backstore {}: {} at lba {} of {} failed: {} -> {} (same failures in the next 10 s at DEBUG)",
                    name, what, lba, path, e.toString(), reason);
        } else {
            LOG.debug("backstore {}: {} at lba {} of {} failed: {} -> {}", name, what, lba, path, e.toString(), reason);
        }
        return new BackstoreException(reason, "backstore " + name + ": " + what + " failed: " + e.getMessage(), e);
    }

    private synchronized void reopen() {
        if (channel.isOpen()) {
            return;
        }
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            channel.tryLock();
        } catch (IOException | RuntimeException e) {
            LOG.error("backstore {}: cannot reopen {}", name, path, e);
        }
    }

    /** Hole punching and SEEK_DATA/SEEK_HOLE (SBC-3 4.7 logical block provisioning). */
    private final class Thin implements ThinProvisioning {
        @Override
        public CompletionStage<Void> unmap(long lba, long blocks) {
            try {
                if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
                    throw new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                            "lba: " + lba + " + " + blocks + " blocks (expected: <= " + blockCount + ")");
                }
                if (blocks == 0) {
                    return DONE;
                }
                nativeFiles.punchHole(lba * blockSize, blocks * blockSize);
                return DONE;
            } catch (BackstoreException e) {
                return CompletableFuture.failedFuture(e);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(ioFailure(IoFailures.Op.UNMAP, lba, e));
            }
        }

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
            long remaining = blockCount - lba;
            long offset = lba * blockSize;
            try {
                long[] dataAndHole = nativeFiles.dataAndHole(offset);
                long data = dataAndHole[0];
                if (data < 0 || data >= blockCount * blockSize) {
                    return -remaining; // a hole (or end of a short file) up to the last block
                }
                if (data > offset) {
                    return -Math.max(1, Math.min(remaining, (data - offset) / blockSize));
                }
                long hole = dataAndHole[1];
                long mapped = hole < 0 ? remaining : (hole - offset + blockSize - 1) / blockSize;
                return Math.max(1, Math.min(remaining, mapped));
            } catch (IOException e) {
                LOG.debug("backstore {}: extent at lba {}: {}", name, lba, e.toString());
                return remaining; // cannot tell: report mapped, as the SPI allows
            }
        }
    }

    /** A full disk fails every write: one WARN per sense reason every 10 s, the rest at DEBUG. */
    private static final class FailureLog {
        private static final long QUIET_NANOS = 10_000_000_000L;
        private SenseReason last;
        private long lastWarn;

        synchronized boolean shouldWarn(SenseReason reason) {
            long now = System.nanoTime();
            if (reason != last || now - lastWarn >= QUIET_NANOS) {
                last = reason;
                lastWarn = now;
                return true;
            }
            return false;
        }
    }
}
