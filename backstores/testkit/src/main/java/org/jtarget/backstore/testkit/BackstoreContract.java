package org.jtarget.backstore.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.backstore.ZeroWriting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link Backstore} (SPI 2.0) as tests: extend this class in a test of your backstore and
 * implement {@link #open()}; JUnit 5 runs every test here against it. Run your test with Netty's paranoid
 * leak detection ({@code -Dio.netty.leakDetection.level=paranoid}) so that a buffer the backstore forgets
 * to release fails the build.
 *
 * <p>Each test opens a fresh, empty backstore of at least {@value #MIN_BYTES} bytes and closes it.
 * Capabilities a backstore does not offer (thin provisioning, zero writing) are skipped by the tests
 * that need them.
 *
 * <p>A backstore that keeps no data (writes are discarded and every block reads as zeros, as LIO's
 * {@code rd_nullio} and tgt's {@code null} backing store) overrides {@link #keepsData()} to return false:
 * every read-after-write check then expects zeros instead of what was written, and the kit prints which
 * checks it replaced and why. Every other check (geometry, limits, edges, bad ranges, many requests in
 * flight, cancellation, close with requests in flight) applies unchanged.
 */
public abstract class BackstoreContract {
    /** The smallest capacity the tests need. */
    public static final long MIN_BYTES = 8L << 20;

    /** The backstore under test, opened before each test. */
    protected Backstore bs;
    private final List<ByteBuf> buffers = new ArrayList<>();
    private boolean dataChecksReplaced;
    private String testName = "?";

    /** Opens a new backstore object whose blocks were never written, of at least {@link #MIN_BYTES}. */
    protected abstract Backstore open() throws Exception;

    /** Removes what {@link #open()} created, after the backstore was closed. The default does nothing. */
    protected void destroy() throws Exception {
    }

    /**
     * Whether {@link ThinProvisioning#extent} reports deallocated blocks precisely at the unmap granularity
     * (file holes, a memory map, an object store); false for a backstore that may report everything as mapped
     * (the SPI allows it when it cannot tell).
     */
    protected boolean reportsDeallocation() {
        return true;
    }

    /**
     * Whether the backstore keeps what is written. False for a backstore that discards writes and reads
     * zeros everywhere (a null device, to measure a fabric alone): the kit then checks that reads after
     * writes return zeros, prints the replaced checks, and runs every other check as usual.
     */
    protected boolean keepsData() {
        return true;
    }

    /** How long one request may take. */
    protected Duration timeout() {
        return Duration.ofSeconds(30);
    }

    /** The allocator reads get (the core gives the pooled direct allocator). */
    protected ByteBufAllocator allocator() {
        return PooledByteBufAllocator.DEFAULT;
    }

    @BeforeEach
    final void openBackstore(org.junit.jupiter.api.TestInfo info) throws Exception {
        testName = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse(info.getDisplayName());
        bs = open();
        assertNotNull(bs, "open() returned null");
    }

    @AfterEach
    final void closeBackstore() throws Exception {
        try {
            if (bs != null) {
                await(bs.close());
            }
        } finally {
            buffers.forEach(b -> {
                if (b.refCnt() > 0) {
                    b.release(b.refCnt());
                }
            });
            destroy();
        }
    }

    // ---- helpers ----

    protected final <T> T await(CompletionStage<T> stage) throws Exception {
        assertNotNull(stage, "a request returned no stage");
        try {
            return stage.toCompletableFuture().get(timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no completion within " + timeout(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    /** Waits for a stage that must fail, and returns its BackstoreException. */
    protected final BackstoreException failure(CompletionStage<?> stage) throws Exception {
        try {
            Object v = stage.toCompletableFuture().get(timeout().toMillis(), TimeUnit.MILLISECONDS);
            if (v instanceof ByteBuf b) {
                b.release();
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while (c instanceof CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            return assertInstanceOf(BackstoreException.class, c, "failures are BackstoreExceptions: " + c);
        }
        throw new AssertionError("the request succeeded but must fail");
    }

    protected final int blockSize() {
        return bs.blockSize();
    }

    protected final ByteBuf pattern(int blocks, long seed) {
        byte[] b = new byte[blocks * blockSize()];
        new Random(seed).nextBytes(b);
        ByteBuf buf = Unpooled.directBuffer(b.length).writeBytes(b);
        buffers.add(buf);
        return buf;
    }

    protected final byte[] read(long lba, int blocks) throws Exception {
        ByteBuf got = await(bs.read(lba, blocks, allocator()));
        try {
            assertEquals((long) blocks * blockSize(), got.readableBytes(), "a read returns exactly the blocks asked for");
            byte[] b = new byte[got.readableBytes()];
            got.getBytes(got.readerIndex(), b);
            return b;
        } finally {
            got.release();
        }
    }

    protected final void write(long lba, ByteBuf data, boolean fua) throws Exception {
        int reader = data.readerIndex();
        await(bs.write(lba, data, fua));
        assertEquals(reader, data.readerIndex(), "a write leaves the reader index alone");
    }

    /**
     * What a read of blocks written with {@code written} must return: those bytes, or zeros of the same
     * length when the backstore keeps no data ({@link #keepsData()}).
     */
    private byte[] expect(byte[] written) {
        if (keepsData()) {
            return written;
        }
        if (!dataChecksReplaced) {
            dataChecksReplaced = true;
            System.out.println("BackstoreContract " + getClass().getSimpleName() + "." + testName
                    + ": keepsData() is false: the read-after-write checks expect zeros (the backstore discards writes)");
        }
        return new byte[written.length];
    }

    private byte[] expect(ByteBuf written) {
        return expect(bytes(written));
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    // ---- geometry and limits ----

    @Test
    void geometryAndLimitsAreConsistent() {
        assertTrue(blockSize() == 512 || blockSize() == 4096, "block size 512 or 4096: " + blockSize());
        assertTrue(bs.blockCount() * blockSize() >= MIN_BYTES, "capacity at least " + MIN_BYTES);
        String product = bs.productId();
        assertTrue(product != null && !product.isEmpty() && product.length() <= 16
                && product.chars().allMatch(c -> c >= 0x20 && c < 0x7F), "product id: 1-16 ASCII: " + product);
        BackstoreLimits l = bs.limits();
        assertNotNull(l);
        assertTrue(l.maxTransferBytes() >= blockSize(), "max transfer at least one block");
        assertEquals(0, l.maxTransferBytes() % blockSize(), "max transfer a whole number of blocks");
        assertEquals(0, l.optimalGranularityBytes() % blockSize(), "granularity a whole number of blocks");
        assertEquals(0, l.maxAtomicBytes() % blockSize(), "atomic writes a whole number of blocks");
    }

    // ---- reads and writes ----

    @Test
    void blocksNeverWrittenReadAsZeros() throws Exception {
        assertTrue(allZero(read(0, 8)), "first blocks");
        assertTrue(allZero(read(bs.blockCount() - 8, 8)), "last blocks");
        assertTrue(allZero(read(bs.blockCount() / 2 + 3, 1)), "a block in the middle");
    }

    @Test
    void writesAtTheEdgesReadBack() throws Exception {
        long last = bs.blockCount() - 1;
        ByteBuf first = pattern(1, 1);
        ByteBuf end = pattern(1, 2);
        ByteBuf across = pattern(9, 3);
        write(0, first, false);
        write(last, end, false);
        long mid = bs.blockCount() / 2 - 4;
        write(mid, across, false);
        assertArrayEquals(expect(first), read(0, 1));
        assertArrayEquals(expect(end), read(last, 1));
        assertArrayEquals(expect(across), read(mid, 9));
        assertTrue(allZero(read(1, 1)), "the neighbour of a written block is untouched");
        assertTrue(allZero(read(mid - 1, 1)));
        assertTrue(allZero(read(mid + 9, 1)));
    }

    @Test
    void overwritesReplaceOnlyTheirBlocks() throws Exception {
        ByteBuf a = pattern(8, 4);
        ByteBuf b = pattern(2, 5);
        write(16, a, false);
        write(19, b, true);
        byte[] expected = bytes(a);
        System.arraycopy(bytes(b), 0, expected, 3 * blockSize(), 2 * blockSize());
        assertArrayEquals(expect(expected), read(16, 8));
    }

    @Test
    void theLargestTransferWorks() throws Exception {
        int blocks = (int) Math.min(bs.limits().maxTransferBytes(), 4L << 20) / blockSize();
        ByteBuf big = pattern(blocks, 6);
        write(0, big, false);
        assertArrayEquals(expect(big), read(0, blocks));
    }

    @Test
    void manyRequestsInFlightAllComplete() throws Exception {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        List<ByteBuf> data = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            ByteBuf d = pattern(2, 100 + i);
            data.add(d);
            CompletableFuture<Void> w = bs.write(i * 2L, d, false).toCompletableFuture();
            writes.add(w.exceptionally(t -> {
                Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                if (c instanceof BackstoreException be && be.isBusy()) {
                    return null; // busy is allowed; the write is retried below
                }
                throw new CompletionException(c);
            }));
        }
        for (CompletableFuture<Void> w : writes) {
            await(w);
        }
        for (int i = 0; i < 64; i++) { // a busy refusal must not have written: write again, then check all
            write(i * 2L, data.get(i), false);
        }
        for (int i = 0; i < 64; i++) {
            assertArrayEquals(expect(data.get(i)), read(i * 2L, 2), "request " + i);
        }
    }

    @Test
    void fuaAndFlushComplete() throws Exception {
        write(5, pattern(1, 7), true);
        await(bs.flush());
        await(bs.flush()); // a flush with nothing dirty
        assertArrayEquals(expect(pattern(1, 7)), read(5, 1));
    }

    @Test
    void theOldReadIntoACallersBufferStillWorks() throws Exception {
        ByteBuf p = pattern(3, 8);
        write(40, p, false);
        ByteBuf dst = Unpooled.directBuffer(3 * blockSize());
        buffers.add(dst);
        await(bs.read(40, 3, dst));
        assertEquals(3 * blockSize(), dst.readableBytes());
        assertArrayEquals(expect(p), bytes(dst));
    }

    // ---- bad ranges ----

    @Test
    void requestsBeyondTheEndFailAndChangeNothing() throws Exception {
        long count = bs.blockCount();
        write(count - 1, pattern(1, 9), false);
        failure(bs.read(count, 1, allocator()));
        failure(bs.read(count - 1, 2, allocator()));
        failure(bs.write(count - 1, pattern(2, 10), false));
        failure(bs.write(-1, pattern(1, 11), false));
        assertArrayEquals(expect(pattern(1, 9)), read(count - 1, 1), "a refused write changed nothing");
    }

    // ---- thin provisioning and zeroing ----

    @Test
    void unmappedBlocksReadAsZerosAndExtentsDescribeThem() throws Exception {
        // (a backstore whose deallocated blocks read back undefined must still leave the neighbours alone)
        ThinProvisioning thin = bs.thinProvisioning().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(thin != null, "no thin provisioning offered");
        long granule = Math.max(bs.limits().unmapGranularityBytes(), 1L << 20) / blockSize();
        int blocks = (int) Math.min(granule * 2, (4L << 20) / blockSize());
        write(0, pattern(blocks + 1, 12), false);
        Extent e = await(thin.extent(0));
        assertTrue(e.blocks() >= 1 && e.blocks() <= bs.blockCount(), "extent within the backstore: " + e);
        if (keepsData()) {
            assertTrue(e.mapped(), "written blocks are mapped");
        }
        await(thin.unmap(0, blocks));
        if (thin.readsZerosAfterUnmap()) {
            assertTrue(allZero(read(0, blocks)), "deallocated blocks read as zeros");
        }
        byte[] next = bytes(pattern(blocks + 1, 12));
        assertArrayEquals(expect(java.util.Arrays.copyOfRange(next, blocks * blockSize(), next.length)),
                read(blocks, 1), "the block after the deallocated range keeps its data");
        if (reportsDeallocation()) {
            assertFalse(await(thin.extent(0)).mapped(), "deallocated blocks are reported so");
        }
        Extent tail = await(thin.extent(bs.blockCount() - 1));
        assertEquals(1, tail.blocks(), "the last block's extent ends at the end");
        failure(thin.unmap(bs.blockCount() - 1, 2));
    }

    @Test
    void zeroWritingZeroes() throws Exception {
        ZeroWriting z = bs.zeroWriting().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(z != null, "no zero writing offered");
        write(100, pattern(16, 13), false);
        await(z.writeZeroes(102, 4, false, false));
        await(z.writeZeroes(110, 2, true, true));
        byte[] got = read(100, 16);
        byte[] expected = bytes(pattern(16, 13));
        java.util.Arrays.fill(expected, 2 * blockSize(), 6 * blockSize(), (byte) 0);
        java.util.Arrays.fill(expected, 10 * blockSize(), 12 * blockSize(), (byte) 0);
        assertArrayEquals(expect(expected), got);
        failure(z.writeZeroes(bs.blockCount() - 1, 2, false, false));
    }

    // ---- cancellation and close ----

    @Test
    void cancelledRequestsLeaveNothingBehind() throws Exception {
        write(0, pattern(4, 14), false);
        for (int i = 0; i < 32; i++) {
            CompletableFuture<ByteBuf> r = bs.read(0, 4, allocator()).toCompletableFuture();
            if (!r.cancel(false)) { // already answered: the buffer is ours
                r.join().release();
            }
        }
        CompletableFuture<Void> w = bs.write(8, pattern(1, 15), false).toCompletableFuture();
        w.cancel(false);
        // whatever the cancelled requests did, the backstore serves on, and leaks nothing (paranoid detector)
        assertArrayEquals(expect(pattern(4, 14)), read(0, 4));
        byte[] eight = read(8, 1);
        assertTrue(allZero(eight) || java.util.Arrays.equals(eight, bytes(pattern(1, 15))),
                "a cancelled write either happened or did not, never partly");
    }

    @Test
    void closeWithRequestsInFlightCompletesThemAll() throws Exception {
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            inFlight.add(bs.write(i, pattern(1, 200 + i), false).toCompletableFuture());
            inFlight.add(bs.read(i, 1, allocator()).toCompletableFuture()
                    .thenAccept(ByteBuf::release));
        }
        Backstore closing = bs;
        bs = null; // closed here, not again after the test
        await(closing.close());
        for (CompletableFuture<?> f : inFlight) {
            try {
                f.get(timeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // failing is allowed; hanging is not
            } catch (TimeoutException e) {
                fail("a request in flight at close never completed");
            }
        }
    }
}
