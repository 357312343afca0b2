package org.jtarget.backstore.memory.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.ArrayList;
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

    @AfterEach
    void releaseBuffers() {
        for (ByteBuf b : buffers) {
            assertEquals(1, b.refCnt(), "the backstore must neither retain nor release the caller's buffers");
            b.release();
        }
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
        assertEquals(8192, thin.extent(0));

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
        assertEquals(2048, thin.extent(0), "chunk 0 mapped, in full");
        assertEquals(1024, thin.extent(1024), "to the end of chunk 0");
        assertEquals(-4096, thin.extent(2048), "chunks 1 and 2 deallocated");
        assertEquals(-1, thin.extent(6143));
        assertEquals(2048, thin.extent(6144));
        assertEquals(1, thin.extent(8191));
        join(thin.unmap(0, 8192));
        assertEquals(0, b.allocatedBytes());
        assertEquals(-8192, thin.extent(0));
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
        try {
            return (MemoryBackstore) provider.open(new BackstoreContext("ram", parameters, Path.of("/nonexistent")));
        } catch (BackstoreException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private void assertInvalid(String messageStart, Map<String, String> parameters) {
        BackstoreException e = assertThrows(BackstoreException.class,
                () -> provider.open(new BackstoreContext("ram", parameters, Path.of("/nonexistent"))));
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
