package org.jtarget.backstore.block.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.Extent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block backstore on a regular file opened like a device (no root needed). */
class BlockBackstoreTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @TempDir
    Path dir;
    private final BlockBackstoreProvider provider = new BlockBackstoreProvider();
    private BlockBackstore open;

    @AfterEach
    void closeIt() throws Exception {
        if (open != null) {
            get(open.close());
        }
        provider.deactivate();
    }

    private Path image(long size) throws IOException {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        return file;
    }

    private BlockBackstore open(String... keyValues) throws Exception {
        Map<String, String> p = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        return (BlockBackstore) get(provider.open(new BackstoreContext("b1", p, dir)));
    }

    static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static BackstoreException failure(CompletionStage<?> stage) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(stage));
        return assertInstanceOf(BackstoreException.class, e.getCause());
    }

    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] readBytes(BlockBackstore b, long lba, int blocks) throws Exception {
        ByteBuf data = get(b.read(lba, blocks, ALLOC));
        try {
            assertEquals(blocks * b.blockSize(), data.readableBytes());
            return io.netty.buffer.ByteBufUtil.getBytes(data);
        } finally {
            data.release();
        }
    }

    static void write(BlockBackstore b, long lba, byte[] bytes, boolean fua) throws Exception {
        ByteBuf src = Unpooled.wrappedBuffer(bytes);
        try {
            get(b.write(lba, src, fua));
        } finally {
            src.release();
        }
    }

    @Test
    void sizeAndBlockSizeComeFromTheFileAndParameter() throws Exception {
        image(8 << 20);
        open = open("device", "disk.img");
        assertEquals(512, open.blockSize());
        assertEquals((8 << 20) / 512, open.blockCount());
        assertTrue(open.writeCacheEnabled(), "a file has a page cache or a device cache behind it");
        assertEquals("jtarget-block", open.productId());
        get(open.close());
        open = open("device", dir.resolve("disk.img").toString(), "block_size", "4096");
        assertEquals(4096, open.blockSize());
        assertEquals((8 << 20) / 4096, open.blockCount());
    }

    @Test
    void writesAndReadsTheFirstAndLastBlocksAndTheFileHoldsThem() throws Exception {
        Path file = image(1 << 20);
        open = open("device", "disk.img");
        long last = open.blockCount() - 1;
        byte[] first = pattern(512 * 3, 1);
        byte[] end = pattern(512, 2);
        write(open, 0, first, false);
        write(open, last, end, true);
        get(open.flush());
        assertArrayEquals(first, readBytes(open, 0, 3));
        assertArrayEquals(end, readBytes(open, last, 1));
        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(first, Arrays.copyOfRange(onDisk, 0, first.length));
        assertArrayEquals(end, Arrays.copyOfRange(onDisk, onDisk.length - 512, onDisk.length));
    }

    @Test
    void writesFromUnalignedHeapAndCompositeBuffersAndReadsIntoTheCallersBuffer() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img");
        byte[] a = pattern(1024, 3);
        byte[] b = pattern(512, 4);
        CompositeByteBuf composite = ALLOC.compositeDirectBuffer();
        composite.addComponent(true, Unpooled.wrappedBuffer(a));
        ByteBuf direct = ALLOC.directBuffer(600).writeZero(88).writeBytes(b); // starts at an odd address
        direct.readerIndex(88);
        composite.addComponent(true, direct);
        try {
            get(open.write(10, composite, false));
            assertEquals(0, composite.readerIndex(), "the source's reader index is left alone");
        } finally {
            composite.release();
        }
        ByteBuf dst = ALLOC.heapBuffer(16).writeBytes(new byte[] {7, 7});
        try {
            get(open.read(10, 3, dst));
            assertEquals(2 + 1536, dst.readableBytes());
            byte[] got = io.netty.buffer.ByteBufUtil.getBytes(dst, 2, 1536);
            assertArrayEquals(a, Arrays.copyOfRange(got, 0, 1024));
            assertArrayEquals(b, Arrays.copyOfRange(got, 1024, 1536));
        } finally {
            dst.release();
        }
    }

    @Test
    void refusesRangesBeyondTheEndAndPartialBlocks() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img");
        long count = open.blockCount();
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, failure(open.read(count - 1, 2, ALLOC)).reason());
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, failure(open.read(-1, 1, ALLOC)).reason());
        ByteBuf src = Unpooled.wrappedBuffer(new byte[1024]);
        ByteBuf odd = Unpooled.wrappedBuffer(new byte[700]);
        try {
            assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, failure(open.write(count - 1, src, false)).reason());
            assertEquals(SenseReason.INVALID_FIELD_IN_CDB, failure(open.write(0, odd, false)).reason());
        } finally {
            src.release();
            odd.release();
        }
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                failure(open.thinProvisioning().orElseThrow().unmap(count, 1)).reason());
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                failure(open.zeroWriting().orElseThrow().writeZeroes(1, count, false, false)).reason());
    }

    @Test
    void unmapPunchesAHoleThatReadsAsZerosAndFreesTheFileBlocks() throws Exception {
        Path file = image(4 << 20);
        open = open("device", "disk.img");
        byte[] data = pattern(2 << 20, 5);
        write(open, 0, data, true);
        long before = LoopDevices.allocatedBlocks(file);
        assertTrue(before >= (2 << 20) / 512, "written data is allocated: " + before);
        Extent mapped = get(open.thinProvisioning().orElseThrow().extent(0));
        assertEquals(new Extent((2 << 20) / 512, true), mapped);

        assertTrue(open.thinProvisioning().orElseThrow().readsZerosAfterUnmap(), "a punched hole reads zeros: LBPRZ");
        get(open.thinProvisioning().orElseThrow().unmap(0, (1 << 20) / 512));
        long after = LoopDevices.allocatedBlocks(file);
        assertTrue(after <= before - (1 << 20) / 512, "1 MiB deallocated: " + before + " -> " + after + " blocks");
        assertArrayEquals(new byte[1 << 20], readBytes(open, 0, (1 << 20) / 512));
        assertArrayEquals(Arrays.copyOfRange(data, 1 << 20, 2 << 20), readBytes(open, (1 << 20) / 512, (1 << 20) / 512));
        assertEquals(new Extent((1 << 20) / 512, false), get(open.thinProvisioning().orElseThrow().extent(0)));
    }

    @Test
    void unmapOffOffersNoUnmapAndZeroesIsWhatAutoChoosesOnAFile() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img", "unmap", "off");
        assertTrue(open.thinProvisioning().isEmpty(), open.device().facts);
        assertTrue(open.zeroWriting().isPresent(), "zeroing does not depend on unmap");
        get(open.close());
        open = open("device", "disk.img", "unmap", "zeroes");
        assertEquals(BlockDevice.Unmap.ZEROES, open.device().unmap);
    }

    @Test
    void unmapChoiceFollowsWhatTheDeviceCanDo() throws Exception {
        Path ssd = Path.of("/dev/sdz");
        // a device that discards but cannot write zeroes (e.g. a SATA SSD): auto takes the plain discard
        assertEquals(BlockDevice.Unmap.DISCARD, BlockDevice.unmap("auto", ssd, true, false, true));
        assertEquals(BlockDevice.Unmap.DISCARD, BlockDevice.unmap(null, ssd, true, false, true));
        BackstoreException e = assertThrows(BackstoreException.class,
                () -> BlockDevice.unmap("zeroes", ssd, true, false, true));
        assertEquals("unmap: zeroes (expected: auto, zeroes, discard, off; /dev/sdz cannot deallocate and read back"
                + " zeros (needs discard_max_bytes and write_zeroes_max_bytes above 0))", e.getMessage());
        assertEquals(BlockDevice.Unmap.NONE, BlockDevice.unmap("auto", ssd, true, false, false));
        e = assertThrows(BackstoreException.class, () -> BlockDevice.unmap("discard", ssd, true, false, false));
        assertEquals("unmap: discard (expected: auto, zeroes, discard, off; /dev/sdz has no discard"
                + " (discard_max_bytes 0))", e.getMessage());
        // both: auto prefers the deallocation that reads back zeros
        assertEquals(BlockDevice.Unmap.ZEROES, BlockDevice.unmap(" auto ", ssd, true, true, true));
        assertEquals(BlockDevice.Unmap.DISCARD, BlockDevice.unmap("discard", ssd, true, true, true));
        assertEquals(BlockDevice.Unmap.NONE, BlockDevice.unmap("off", ssd, true, true, true));
    }

    @Test
    void writeZeroesKeepsOrDeallocatesTheBlocksAsAsked() throws Exception {
        Path file = image(4 << 20);
        open = open("device", "disk.img");
        write(open, 0, pattern(1 << 20, 6), true);
        long allocated = LoopDevices.allocatedBlocks(file);
        var zeroing = open.zeroWriting().orElseThrow();
        get(zeroing.writeZeroes(0, 1024, false, true));
        assertArrayEquals(new byte[512 * 1024], readBytes(open, 0, 1024));
        assertEquals(allocated, LoopDevices.allocatedBlocks(file), "zeroed without deallocating (ZERO_RANGE)");
        get(zeroing.writeZeroes(1024, 1024, true, false));
        assertArrayEquals(new byte[512 * 1024], readBytes(open, 1024, 1024));
        assertTrue(LoopDevices.allocatedBlocks(file) <= allocated - 1024, "zeroed by deallocating (PUNCH_HOLE)");
    }

    /** Blocks the backstore's only I/O thread until the returned latch is counted down. */
    private static CountDownLatch occupyTheOnlyThread(BlockBackstore b) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        b.pool().execute(() -> {
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(started.await(30, TimeUnit.SECONDS), "the I/O thread started");
        return release;
    }

    @Test
    void answersBusyBeyondTheQueueAndDropsARequestCancelledWhileQueued() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img", "io_threads", "1", "queue_depth", "1");
        byte[] old = pattern(512, 7);
        write(open, 5, old, false);
        CountDownLatch release = occupyTheOnlyThread(open);
        ByteBuf src = Unpooled.wrappedBuffer(pattern(512, 8));
        CompletionStage<Void> queued;
        try {
            queued = open.write(5, src, true); // fills the queue (a FUA write never runs on the caller)
            BackstoreException busy = failure(open.flush());
            assertTrue(busy.isBusy(), busy.getMessage());
            assertTrue(queued.toCompletableFuture().cancel(false));
        } finally {
            src.release(); // the core releases a cancelled write's data at once
        }
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!open.pool().getQueue().isEmpty()) { // the thread takes the cancelled write, and drops it
            assertTrue(System.nanoTime() < deadline, "the queue never drained");
            Thread.onSpinWait();
        }
        assertArrayEquals(old, readBytes(open, 5, 1), "the cancelled write never reached the file");
        assertTrue(queued.toCompletableFuture().isCancelled());
    }

    @Test
    void nativeAioHoldsNoMoreThanTheQueueDepthAndTheDevicesQueue() {
        assertEquals(256, BlockBackstore.aioDepth(256, 0), "a regular file: no device queue");
        assertEquals(128, BlockBackstore.aioDepth(256, 128), "a loop device queues 128");
        assertEquals(32, BlockBackstore.aioDepth(32, 128));
        assertEquals(256, BlockBackstore.aioDepth(65536, 1024));
    }

    @Test
    void aBurstOfODirectReadsAndWritesGoesThroughNativeAioWhileTheIoThreadIsBusy() throws Exception {
        Path file = image(4 << 20);
        open = open("device", "disk.img", "io_threads", "1");
        org.junit.jupiter.api.Assumptions.assumeTrue(open.nativeAio(), "no native AIO in this kernel (logged)");
        CountDownLatch release = occupyTheOnlyThread(open);
        try {
            int n = 48;
            CompletableFuture<?>[] writes = new CompletableFuture<?>[n];
            ByteBuf[] sources = new ByteBuf[n];
            for (int i = 0; i < n; i++) { // heap buffers: copied into aligned memory before io_submit
                sources[i] = Unpooled.wrappedBuffer(pattern(8 * 512, 100 + i));
                writes[i] = open.write(16L * i + 1, sources[i], false).toCompletableFuture();
            }
            CompletableFuture.allOf(writes).get(30, TimeUnit.SECONDS); // the one I/O thread is still occupied
            for (ByteBuf b : sources) {
                b.release();
            }
            CompletableFuture<?>[] reads = new CompletableFuture<?>[n];
            for (int i = 0; i < n; i++) {
                reads[i] = open.read(16L * i + 1, 8, ALLOC).toCompletableFuture();
            }
            CompletableFuture.allOf(reads).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                ByteBuf data = (ByteBuf) reads[i].get();
                try {
                    assertArrayEquals(pattern(8 * 512, 100 + i), io.netty.buffer.ByteBufUtil.getBytes(data), "read " + i);
                } finally {
                    data.release();
                }
            }
            assertTrue(open.pool().getQueue().isEmpty(), "nothing waits for the occupied I/O thread");
        } finally {
            release.countDown();
        }
        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(pattern(8 * 512, 100 + 47), Arrays.copyOfRange(onDisk, (16 * 47 + 1) * 512, (16 * 47 + 9) * 512),
                "the file holds the last write");
    }

    @Test
    void withoutODirectPlainWritesNeedNoIoThreadWhileFuaWritesWaitForOne() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img", "direct", "false", "io_threads", "1");
        CountDownLatch release = occupyTheOnlyThread(open);
        CompletableFuture<Void> fua;
        byte[] plain = pattern(4096, 11);
        byte[] durable = pattern(4096, 12);
        try {
            write(open, 8, plain, false); // to the page cache on this thread
            ByteBuf src = Unpooled.wrappedBuffer(durable);
            try {
                fua = open.write(16, src, true).toCompletableFuture();
                assertFalse(fua.isDone(), "a FUA write (RWF_DSYNC) runs on an I/O thread, all busy");
            } finally {
                src.release(); // the backstore holds its own reference until written
            }
        } finally {
            release.countDown();
        }
        get(fua);
        assertArrayEquals(plain, readBytes(open, 8, 8));
        assertArrayEquals(durable, readBytes(open, 16, 8));
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("disk.img").toFile(), "r")) {
            byte[] inFile = new byte[4096];
            f.seek(8 * 512);
            f.readFully(inFile);
            assertArrayEquals(plain, inFile, "the file holds the plain write");
        }
    }

    @Test
    void holdsTheFileUntilClosedThenRefusesRequests() throws Exception {
        image(1 << 20);
        open = open("device", "disk.img");
        ExecutionException e = assertThrows(ExecutionException.class, () -> open("device", "disk.img"));
        BackstoreException refused = assertInstanceOf(BackstoreException.class, e.getCause());
        assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
        BlockBackstore first = open;
        get(first.close());
        open = open("device", "disk.img");
        assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, failure(first.read(0, 1, ALLOC)).reason());
        assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, failure(first.flush()).reason());
    }

    @Test
    void refusesBadParametersWithTheFieldAndWhatWasExpected() throws Exception {
        image(1 << 20);
        Files.createDirectory(dir.resolve("folder"));
        assertEquals("device: missing (expected: the path of a block device)", message());
        assertEquals("device: " + dir.resolve("nothing") + " (does not exist; expected: a block device)",
                message("device", "nothing"));
        assertTrue(message("device", "folder").endsWith("(expected: a block device or a regular file)"));
        assertEquals("block_size: 1024 (expected: 512 or 4096)", message("device", "disk.img", "block_size", "1024"));
        assertEquals("io_threads: 0 (expected: a whole number from 1 to 64)", message("device", "disk.img", "io_threads", "0"));
        assertTrue(message("device", "disk.img", "size", "1G").startsWith("unknown parameter: size"));
        assertEquals("unmap: trim (expected: auto, zeroes, discard, off)", message("device", "disk.img", "unmap", "trim"));
        Path file = dir.resolve("disk.img").toRealPath();
        assertEquals("unmap: discard (expected: auto, zeroes, discard, off; " + file + " is a regular file, and"
                + " BLKDISCARD is for block devices)", message("device", "disk.img", "unmap", "discard"));
        Files.write(dir.resolve("tiny.img"), new byte[100]);
        assertTrue(message("device", "tiny.img").endsWith("(100 bytes; expected: at least one block of 512)"),
                message("device", "tiny.img"));
    }

    private String message(String... keyValues) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> open(keyValues));
        BackstoreException b = assertInstanceOf(BackstoreException.class, e.getCause());
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, b.reason());
        return b.getMessage();
    }

    @Test
    void aCancelledOpenClosesWhatItOpened() throws Exception {
        image(1 << 20);
        CompletableFuture<?> first = provider.open(new BackstoreContext("b1", Map.of("device", "disk.img"), dir))
                .toCompletableFuture();
        if (!first.cancel(false)) { // it was open already: then this test shows only that reopening works
            get(((BlockBackstore) first.get()).close());
        }
        // The cancelled object lets go of its lock: a new open succeeds once it has closed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (open == null) {
            try {
                open = open("device", "disk.img");
            } catch (ExecutionException e) {
                assertTrue(System.nanoTime() < deadline, "the cancelled open still holds the file: " + e.getCause());
                Thread.onSpinWait();
            }
        }
    }
}
