package org.jtarget.backstore.file.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures of the image file become the sense docs/faults.md lists, every failed command completes, and
 * no failed write completes normally. The failures are injected below the backstore with the kernel's own
 * messages ({@link FaultyChannel}); the systest FaultsIT makes the real ones.
 */
class FileBackstoreFaultsTest {
    private static final IOException ENOSPC = new IOException("No space left on device");
    private static final IOException EIO = new IOException("Input/output error");

    @TempDir
    Path data;
    private final List<FileBackstore> opened = new ArrayList<>();
    private final List<ByteBuf> buffers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        opened.forEach(FileBackstore::close);
        buffers.forEach(ByteBuf::release);
    }

    @Test
    void fullFileSystemFailsWritesWithSpaceAllocationFailed() throws Exception {
        FaultyChannel ch = channel("full.img");
        FileBackstore b = backstore(ch, true);
        ch.writeFailure = ENOSPC;
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, block(8), false));
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, block(8), true));
        assertEquals(0, ch.forces, "a write that failed is not flushed (and not answered GOOD after a flush)");
        ch.writeFailure = null;
        ByteBuf dst = buffer(4096);
        join(b.read(0, 8, dst));
        assertEquals(4096, dst.readableBytes(), "reads go on while the file system is full");
    }

    @Test
    void aShortWriteFollowedByEnospcStillFails() throws Exception {
        FaultyChannel ch = channel("short.img");
        FileBackstore b = backstore(ch, true);
        ch.writeFailure = ENOSPC;
        ch.writeBudget = 1536; // the kernel stores three blocks, then the next write(2) says ENOSPC
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, block(8), true));
    }

    @Test
    void quotaAndEnospcFromAFlushAreSpaceAllocationFailedToo() throws Exception {
        FaultyChannel ch = channel("quota.img");
        FileBackstore b = backstore(ch, true);
        ch.writeFailure = new IOException("Disk quota exceeded");
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, block(1), false));
        ch.writeFailure = null;
        ch.forceFailure = ENOSPC; // NFS, thin LVM: the space runs out when the cache is written back
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, block(1), true));
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.flush());
    }

    @Test
    void ioErrorsAreMediumErrorsOfTheirDirection() throws Exception {
        FaultyChannel ch = channel("eio.img");
        FileBackstore b = backstore(ch, true);
        ch.readFailure = EIO;
        ByteBuf dst = buffer(512);
        assertReason(SenseReason.UNRECOVERED_READ_ERROR, b.read(0, 1, dst));
        assertEquals(0, dst.writerIndex(), "a failed read hands back no data");
        ch.writeFailure = EIO;
        assertReason(SenseReason.WRITE_ERROR, b.write(0, block(1), false));
        ch.writeFailure = null;
        ch.forceFailure = EIO;
        assertReason(SenseReason.WRITE_ERROR, b.write(0, block(1), true));
        assertReason(SenseReason.WRITE_ERROR, b.flush());
        ch.forceFailure = null;
        join(b.flush());
    }

    @Test
    void writeThroughReportsTheFailedForceOfEveryWrite() throws Exception {
        FaultyChannel ch = channel("wt.img");
        FileBackstore b = backstore(ch, false);
        ch.forceFailure = EIO;
        assertReason(SenseReason.WRITE_ERROR, b.write(0, block(1), false));
    }

    @Test
    void readOnlyRemountIsWriteProtected() throws Exception {
        FaultyChannel ch = channel("ro.img");
        FileBackstore b = backstore(ch, true);
        ch.writeFailure = new IOException("Read-only file system");
        assertReason(SenseReason.WRITE_PROTECTED, b.write(0, block(1), false));
    }

    @Test
    void otherFailuresAreLogicalUnitCommunicationFailure() throws Exception {
        FaultyChannel ch = channel("other.img");
        FileBackstore b = backstore(ch, true);
        ch.writeFailure = new IOException("Stale file handle");
        assertReason(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, b.write(0, block(1), false));
        ch.readFailure = new AsynchronousCloseException();
        assertReason(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, b.read(0, 1, buffer(512)));
        ch.readFailure = ENOSPC; // nonsense for a read: no medium error either
        assertReason(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, b.read(0, 1, buffer(512)));
    }

    @Test
    void anUnexpectedExceptionInAForceStillCompletesTheCommands() throws Exception {
        FaultyChannel ch = channel("bug.img");
        // a real thread: the force runs outside the caller, as on the provider's sync pool
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            FileBackstore b = new FileBackstore("t", data.resolve("bug.img"), ch, 512, 2048, true, pool, null);
            opened.add(b);
            ch.forceFailure = new IllegalStateException("injected");
            CompletionStage<Void> fua = b.write(0, block(1), true);
            CompletionException e = assertThrows(CompletionException.class,
                    () -> fua.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join());
            BackstoreException cause = assertInstanceOf(BackstoreException.class, e.getCause());
            assertEquals(SenseReason.INTERNAL_TARGET_FAILURE, cause.reason());
        } finally {
            ch.forceFailure = null; // close() in tearDown forces too
            pool.shutdownNow();
        }
    }

    /** SBC-3 5.39 FUA and 5.22 SYNCHRONIZE CACHE reach fsync(2); with the write cache off every write does. */
    @Test
    void fuaSynchronizeCacheAndWriteThroughReachForce() throws Exception {
        FaultyChannel ch = channel("wce.img");
        FileBackstore b = backstore(ch, true);
        join(b.write(0, block(1), false));
        assertEquals(0, ch.forces, "WCE=1: a plain write stays in the cache");
        join(b.write(0, block(1), true));
        assertEquals(1, ch.forces, "FUA forces before it completes");
        join(b.flush());
        assertEquals(2, ch.forces, "SYNCHRONIZE CACHE forces");

        FaultyChannel wt = channel("wce0.img");
        FileBackstore through = backstore(wt, false);
        join(through.write(0, block(1), false));
        join(through.write(1, block(1), false));
        assertEquals(2, wt.forces, "WCE=0: every write forces");
    }

    @Test
    void errnoOfNativeCallsIsUsedAsIs() {
        assertEquals(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, IoFailures.reason(IoFailures.Op.UNMAP,
                new IoFailures.ErrnoException("fallocate(PUNCH_HOLE, 0, 4096)", IoFailures.ENOSPC, null)));
        assertEquals(SenseReason.WRITE_ERROR, IoFailures.reason(IoFailures.Op.UNMAP,
                new IoFailures.ErrnoException("fallocate(PUNCH_HOLE, 0, 4096)", IoFailures.EIO, null)));
    }

    // helpers

    private FaultyChannel channel(String name) throws IOException {
        Path file = data.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1 << 20);
        }
        return new FaultyChannel(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    private FileBackstore backstore(FaultyChannel ch, boolean writeCache) {
        FileBackstore b = new FileBackstore("t", data, ch, 512, 2048, writeCache, Runnable::run, null);
        opened.add(b);
        return b;
    }

    private ByteBuf block(int blocks) {
        ByteBuf b = Unpooled.directBuffer(blocks * 512);
        b.writeBytes(new byte[blocks * 512]);
        buffers.add(b);
        return b;
    }

    private ByteBuf buffer(int capacity) {
        ByteBuf b = Unpooled.directBuffer(capacity);
        buffers.add(b);
        return b;
    }

    private static void assertReason(SenseReason reason, CompletionStage<?> stage) {
        CompletionException e = assertThrows(CompletionException.class,
                () -> stage.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join(), "must fail, not succeed");
        BackstoreException cause = assertInstanceOf(BackstoreException.class, e.getCause());
        assertEquals(reason, cause.reason(), cause.getMessage());
        assertTrue(cause.getMessage().startsWith("backstore t: "), cause.getMessage());
    }

    private static void join(CompletionStage<?> stage) {
        stage.toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
}
