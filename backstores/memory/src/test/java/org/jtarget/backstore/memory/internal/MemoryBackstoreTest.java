package org.jtarget.backstore.memory.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryBackstoreTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final int MIB = 1 << 20;

    private final MemoryBackstoreProvider provider = new MemoryBackstoreProvider();
    private final List<ByteBuf> buffers = new ArrayList<>();
    private final List<MemoryBackstore> opened = new ArrayList<>();

    @AfterEach
    void releaseBuffers() {
        for (ByteBuf b : buffers) {
            assertEquals(1, b.refCnt(), "the backstore must neither retain nor release the caller's buffers");
            b.release();
        }
        for (MemoryBackstore b : opened) {
            b.close();
            assertEquals(0, b.allocatedBytes(), "close frees every chunk");
        }
        assertEquals(0, provider.allocatedBytes(), "closed backstores give their memory back to the budget");
    }

    @Test
    void roundTripAcrossChunkBoundariesAtOddOffsets() {
        MemoryBackstore b = open(Map.of("size", "1536K")); // last chunk is half a chunk
        assertEquals(3072, b.blockCount());
        assertFalse(b.writeCacheEnabled());
        Random random = new Random(7);
        for (int[] io : new int[][] {{0, 1}, {2045, 7}, {2047, 1025}, {3071, 1}, {1, 3071}}) {
            byte[] bytes = new byte[io[1] * 512];
            random.nextBytes(bytes);
            ByteBuf src = track(ALLOC.directBuffer());
            src.writeBytes(new byte[3]).readerIndex(3);
            src.writeBytes(bytes);
            join(b.write(io[0], src, io[0] % 2 == 0));
            assertEquals(3, src.readerIndex(), "write must not move the reader index");
            ByteBuf dst = track(ALLOC.heapBuffer(1));
            dst.writeByte(0x77);
            join(b.read(io[0], io[1], dst));
            assertEquals(1 + bytes.length, dst.writerIndex());
            byte[] back = new byte[bytes.length];
            dst.getBytes(1, back);
            assertArrayEquals(bytes, back, "lba " + io[0] + " blocks " + io[1]);
        }
        join(b.flush());
    }

    @Test
    void unwrittenBlocksReadZerosAndCostNothing() {
        MemoryBackstore b = open(Map.of("size", "1T", "block_size", "4096"));
        assertEquals(1L << 28, b.blockCount());
        assertEquals(0, b.allocatedBytes());
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(b.blockCount() - 2, 2, dst));
        assertEquals(8192, dst.readableBytes());
        for (int i = 0; i < 8192; i++) {
            assertEquals(0, dst.getByte(i));
        }
        ByteBuf src = track(Unpooled.directBuffer(4096).writeZero(4096));
        src.setByte(17, 1);
        join(b.write(123_456_789, src, false));
        assertEquals(MIB, b.allocatedBytes(), "one written block costs one chunk");
        b.close();
        assertEquals(0, b.allocatedBytes(), "close frees everything");
    }

    @Test
    void outOfRangeFailsWithoutTouchingTheBuffer() {
        MemoryBackstore b = open(Map.of("size", "64K"));
        ByteBuf dst = track(ALLOC.heapBuffer());
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(127, 2, dst));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(-1, 1, dst));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(Long.MAX_VALUE / 512, 1, dst));
        assertEquals(0, dst.writerIndex());
        ByteBuf src = track(Unpooled.buffer(1024).writeZero(1024));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.write(127, src, false));
        ByteBuf odd = track(Unpooled.buffer(100).writeZero(100));
        assertReason(SenseReason.INVALID_FIELD_IN_CDB, b.write(0, odd, false));
        ByteBuf small = track(Unpooled.buffer(512, 512));
        assertReason(SenseReason.INTERNAL_TARGET_FAILURE, b.read(0, 2, small)); // a failed stage, not a throw
        assertEquals(0, small.writerIndex());
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.unmap(100, 29));
        assertEquals(0, b.allocatedBytes(), "refused writes allocate nothing");
    }

    @Test
    void unmapFreesWholeChunksAndZeroesPartialOnes() {
        MemoryBackstore b = open(Map.of("size", "4M"));
        ThinProvisioning thin = b.thinProvisioning().orElseThrow();
        ByteBuf ones = track(Unpooled.buffer(4 * MIB));
        while (ones.isWritable()) {
            ones.writeByte(1);
        }
        join(b.write(0, ones, false));
        assertEquals(4 * MIB, b.allocatedBytes());
        assertEquals(8192, ((MemoryBackstore) thin).extentNow(0));

        // From the middle of chunk 0 to the middle of chunk 3: chunks 1 and 2 are freed.
        join(thin.unmap(1024, 5120));
        assertEquals(2 * MIB, b.allocatedBytes());
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(0, 8192, dst));
        for (int block = 0; block < 8192; block++) {
            byte expected = block < 1024 || block >= 6144 ? (byte) 1 : 0;
            assertEquals(expected, dst.getByte(block * 512), "block " + block);
            assertEquals(expected, dst.getByte(block * 512 + 511), "block " + block);
        }
        assertEquals(2048, ((MemoryBackstore) thin).extentNow(0), "chunk 0 mapped, in full");
        assertEquals(1024, ((MemoryBackstore) thin).extentNow(1024), "to the end of chunk 0");
        assertEquals(-4096, ((MemoryBackstore) thin).extentNow(2048), "chunks 1 and 2 deallocated");
        assertEquals(-1, ((MemoryBackstore) thin).extentNow(6143));
        assertEquals(2048, ((MemoryBackstore) thin).extentNow(6144));
        assertEquals(1, ((MemoryBackstore) thin).extentNow(8191));
        join(thin.unmap(0, 8192));
        assertEquals(0, b.allocatedBytes());
        assertEquals(-8192, ((MemoryBackstore) thin).extentNow(0));
    }

    @Test
    void concurrentDisjointWritesInOneChunk() throws Exception {
        MemoryBackstore b = open(Map.of("size", "1M"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    ByteBuf src = Unpooled.buffer(512);
                    try {
                        for (int lba = thread; lba < 2048; lba += 4) {
                            src.clear();
                            for (int i = 0; i < 512; i++) {
                                src.writeByte(lba);
                            }
                            join(b.write(lba, src, false));
                        }
                    } finally {
                        src.release();
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(MIB, b.allocatedBytes(), "racing first writes install one chunk");
        ByteBuf dst = track(ALLOC.heapBuffer());
        join(b.read(0, 2048, dst));
        for (int lba = 0; lba < 2048; lba++) {
            assertEquals((byte) lba, dst.getByte(lba * 512), "lba " + lba);
            assertEquals((byte) lba, dst.getByte(lba * 512 + 511), "lba " + lba);
        }
    }

    /** Regression: WRITE SAME of zeros to the last LBA of a 1 GiB LUN allocated every chunk and killed the JVM. */
    @Test
    void zeroWritesToUnallocatedChunksAllocateNothing() {
        MemoryBackstoreProvider small = new MemoryBackstoreProvider(2 * MIB);
        MemoryBackstore b = open(small, Map.of("size", "1G")); // larger than the budget: allowed, thin
        ByteBuf zeros = track(ALLOC.directBuffer(MIB).writeZero(MIB));
        for (long lba = 0; lba < b.blockCount(); lba += 2048) { // what the core's WRITE SAME expansion does
            join(b.write(lba, zeros, false));
        }
        ByteBuf heapZeros = track(Unpooled.buffer(4096).writeZero(4096));
        join(b.write(1, heapZeros, false));
        CompositeByteBuf composite = track(Unpooled.compositeBuffer());
        composite.addComponents(true, Unpooled.buffer(1536).writeZero(1536), Unpooled.directBuffer(512).writeZero(512));
        join(b.write(4097, composite, false)); // not chunk-aligned, two components
        assertEquals(0, b.allocatedBytes(), "zeros where nothing is allocated cost nothing");
        assertEquals(0, small.allocatedBytes());

        // Zeros into an allocated chunk are written like any data: they must overwrite.
        join(b.write(10, filled(512, 0x55), false));
        assertEquals(MIB, small.allocatedBytes());
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(8, 4, dst));
        assertAll(dst, 0, 1024, 0, "unwritten");
        assertAll(dst, 1024, 512, 0x55, "written");
        ByteBuf zeroBlock = track(Unpooled.buffer(512).writeZero(512));
        join(b.write(10, zeroBlock, false));
        dst.clear();
        join(b.read(10, 1, dst));
        assertAll(dst, 0, 512, 0, "overwritten with zeros");
        assertEquals(MIB, small.allocatedBytes());

        // A zero-and-data write allocates only the chunks with data.
        ByteBuf mixed = track(ALLOC.directBuffer(2 * MIB).writeZero(2 * MIB));
        mixed.setByte(MIB + 7, 9);
        join(b.write(4 * 2048, mixed, false));
        assertEquals(2 * MIB, small.allocatedBytes());
        assertEquals(-2048, b.extentNow(4 * 2048), "the all-zero chunk stays deallocated");
        assertEquals(2048, b.extentNow(5 * 2048));
    }

    @Test
    void fillingPastTheBudgetFailsWithSpaceAllocationFailedAndKeepsEarlierData() {
        MemoryBackstoreProvider small = new MemoryBackstoreProvider(3 * MIB);
        MemoryBackstore a = open(small, Map.of("size", "2M"));
        MemoryBackstore b = open(small, Map.of("size", "4M"));
        join(a.write(0, filled(2 * MIB, 0xa1), false));
        assertEquals(2 * MIB, small.allocatedBytes());
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, filled(4 * MIB, 0xb2), false));
        assertEquals(3 * MIB, small.allocatedBytes(), "the budget is shared by every backstore of the provider");
        assertEquals(MIB, b.allocatedBytes());
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(6000, filled(512, 0xb3), false));

        ByteBuf dst = track(ALLOC.directBuffer());
        join(a.read(0, 4096, dst));
        assertAll(dst, 0, 2 * MIB, 0xa1, "a, written before the budget ran out");
        dst.clear();
        join(b.read(0, 8192, dst));
        assertAll(dst, 0, MIB, 0xb2, "b, the chunk that fit");
        assertAll(dst, MIB, 3 * MIB, 0, "b, never written");
        join(b.write(100, filled(512, 0xb4), false)); // an allocated chunk still takes writes
        join(b.write(6000, track(Unpooled.buffer(512).writeZero(512)), false)); // and zeros need no chunk

        // UNMAP of a whole chunk gives its memory back; partial UNMAP only zeroes.
        ThinProvisioning thin = a.thinProvisioning().orElseThrow();
        join(thin.unmap(1, 2046));
        assertEquals(3 * MIB, small.allocatedBytes());
        join(thin.unmap(2048, 2048));
        assertEquals(2 * MIB, small.allocatedBytes());
        join(b.write(6000, filled(512, 0xb3), false));
        dst.clear();
        join(b.read(6000, 1, dst));
        assertAll(dst, 0, 512, 0xb3, "b, written after the unmap returned memory");

        // Close gives the rest back.
        a.close();
        assertEquals(2 * MIB, small.allocatedBytes());
        assertEquals(0, a.allocatedBytes());
        b.close();
        assertEquals(0, small.allocatedBytes());
    }

    @Test
    void outOfMemoryFromTheAllocatorFailsWithSpaceAllocationFailed() {
        MemoryBudget budget = new MemoryBudget(1L << 40);
        ByteBufAllocator refusing = new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                throw new AssertionError("chunks are direct");
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                throw new OutOfMemoryError("Cannot reserve " + initialCapacity + " bytes of direct buffer memory");
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
        MemoryBackstore b = new MemoryBackstore("ram", 512, 4096, budget, refusing);
        assertReason(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, b.write(0, filled(512, 1), false));
        assertEquals(0, budget.used(), "a refused allocation is not charged");
        assertEquals(0, b.allocatedBytes());
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(0, 1, dst));
        assertAll(dst, 0, 512, 0, "unwritten");
        b.close();
    }

    @Test
    void unmapAndReadRacingWritesNeverTouchFreedMemory() throws Exception {
        // Room for the disk's 2 chunks plus those unmapped but still held by a racing read or write.
        MemoryBackstoreProvider small = new MemoryBackstoreProvider(16 * MIB);
        MemoryBackstore b = open(small, Map.of("size", "2M"));
        ThinProvisioning thin = b.thinProvisioning().orElseThrow();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            long until = System.nanoTime() + 300_000_000L;
            Future<?> writer = pool.submit(() -> {
                ByteBuf src = Unpooled.directBuffer(64 * 1024);
                try {
                    src.writeZero(64 * 1024).setByte(0, 1);
                    while (System.nanoTime() < until) {
                        for (int lba = 0; lba < 4096; lba += 128) {
                            join(b.write(lba, src, false));
                        }
                    }
                } finally {
                    src.release();
                }
            });
            Future<?> reader = pool.submit(() -> {
                ByteBuf dst = Unpooled.directBuffer(MIB);
                try {
                    while (System.nanoTime() < until) {
                        dst.clear();
                        join(b.read(1024, 2048, dst));
                    }
                } finally {
                    dst.release();
                }
            });
            Future<?> unmapper = pool.submit(() -> {
                while (System.nanoTime() < until) {
                    join(thin.unmap(0, 4096));
                    join(thin.unmap(100, 3000));
                }
            });
            writer.get();
            reader.get();
            unmapper.get();
        } finally {
            pool.shutdown();
        }
        assertTrue(small.allocatedBytes() <= 2 * MIB, "at most the chunks of the disk: " + small.allocatedBytes());
        assertEquals(small.allocatedBytes(), b.allocatedBytes());
        b.close();
        assertEquals(0, small.allocatedBytes(), "no chunk lost its budget in the race");
    }

    @Test
    void budgetFromTheSystemProperty() {
        assertEquals(512L * MIB, MemoryBackstoreProvider.budgetBytes(null, 1024L * MIB), "default: half of direct memory");
        assertEquals(512L * MIB, MemoryBackstoreProvider.budgetBytes(" ", 1024L * MIB));
        assertEquals(2L << 30, MemoryBackstoreProvider.budgetBytes("2G", 1024L * MIB), "more than direct memory: honoured, logged");
        assertEquals(100L * MIB, MemoryBackstoreProvider.budgetBytes("100m", 1024L * MIB));
        assertEquals(512L * MIB, MemoryBackstoreProvider.budgetBytes("12X", 1024L * MIB), "a typo: logged, default used");
        assertEquals("1 GiB", MemoryBudget.format(1L << 30));
        assertEquals("1.5 MiB", MemoryBudget.format(3 * MIB / 2));
        assertEquals("100 bytes", MemoryBudget.format(100));
    }

    @Test
    void badParametersHaveClearMessages() {
        assertInvalid("size: 12X (expected: a number with optional K, M, G or T)", Map.of("size", "12X"));
        assertInvalid("size: missing (expected: a number with optional K, M, G or T)", Map.of());
        assertInvalid("size: -5 (expected: greater than 0)", Map.of("size", "-5"));
        assertInvalid("size: 1000 (expected: a multiple of the block size 512)", Map.of("size", "1000"));
        assertInvalid("size: 1001K (expected: a multiple of the block size 4096)",
                Map.of("size", "1001K", "block_size", "4096"));
        assertInvalid("size: 4000T (expected: at most 2047T)", Map.of("size", "4000T"));
        assertInvalid("block_size: 520 (expected: 512 or 4096)", Map.of("size", "1M", "block_size", "520"));
        assertInvalid("unknown parameter: file (expected one of: ", Map.of("size", "1M", "file", "x.img"));
        assertEquals("jtarget-memory", open(Map.of("size", "1g")).productId());
    }

    private MemoryBackstore open(Map<String, String> parameters) {
        return open(provider, parameters);
    }

    private MemoryBackstore open(MemoryBackstoreProvider p, Map<String, String> parameters) {
        try {
            MemoryBackstore b = (MemoryBackstore) p.openNow(new BackstoreContext("ram", parameters, Path.of("/nonexistent")));
            opened.add(b);
            return b;
        } catch (BackstoreException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private ByteBuf filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return track(ALLOC.directBuffer(length).writeBytes(bytes)); // one call: paranoid leak detection records each
    }

    private static void assertAll(ByteBuf buf, int from, int length, int value, String what) {
        for (int i = from; i < from + length; i += 512) {
            assertEquals((byte) value, buf.getByte(i), what + " at byte " + i);
            assertEquals((byte) value, buf.getByte(i + 511), what + " at byte " + (i + 511));
        }
    }

    private void assertInvalid(String messageStart, Map<String, String> parameters) {
        BackstoreException e = assertThrows(BackstoreException.class,
                () -> provider.openNow(new BackstoreContext("ram", parameters, Path.of("/nonexistent"))));
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, e.reason());
        assertTrue(e.getMessage().startsWith(messageStart), e.getMessage());
    }

    private static void assertReason(SenseReason reason, CompletionStage<?> stage) {
        CompletionException e = assertThrows(CompletionException.class, () -> stage.toCompletableFuture().join());
        BackstoreException cause = assertInstanceOf(BackstoreException.class, e.getCause());
        assertEquals(reason, cause.reason(), cause.getMessage());
    }

    private static void join(CompletionStage<?> stage) {
        stage.toCompletableFuture().join();
    }

    private <T extends ByteBuf> T track(T buf) {
        buffers.add(buf);
        return buf;
    }
}
