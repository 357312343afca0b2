package org.jtarget.backstore.file.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBackstoreTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @TempDir
    Path data;
    private FileBackstoreProvider provider;
    private final List<Backstore> opened = new ArrayList<>();
    private final List<ByteBuf> buffers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        provider = new FileBackstoreProvider();
        provider.activate();
    }

    @AfterEach
    void tearDown() {
        opened.forEach(Backstore::close);
        for (ByteBuf b : buffers) {
            assertEquals(1, b.refCnt(), "the backstore must neither retain nor release the caller's buffers");
            b.release();
        }
        provider.deactivate();
    }

    @Test
    void roundTripAtOddOffsetsAndSizes() throws Exception {
        Backstore b = open(Map.of("file", "disk.img", "size", "1M"));
        assertEquals(2048, b.blockCount());
        assertEquals(512, b.blockSize());
        assertTrue(b.writeCacheEnabled());
        Random random = new Random(42);
        for (int[] io : new int[][] {{0, 1}, {3, 7}, {1001, 129}, {2047, 1}, {1500, 548}}) {
            byte[] bytes = new byte[io[1] * 512];
            random.nextBytes(bytes);
            ByteBuf src = track(ALLOC.directBuffer(bytes.length + 5));
            src.writeBytes(new byte[5]).readerIndex(5); // payload not at index 0
            src.writeBytes(bytes);
            join(b.write(io[0], src, false));
            assertEquals(5, src.readerIndex(), "write must not move the reader index");

            ByteBuf dst = track(ALLOC.heapBuffer(3));
            dst.writeBytes(new byte[] {9, 9, 9}); // read appends at the writer index
            join(b.read(io[0], io[1], dst));
            assertEquals(3 + bytes.length, dst.writerIndex());
            assertArrayEquals(bytes, bytesOf(dst, 3, bytes.length), "lba " + io[0] + " blocks " + io[1]);
            assertEquals(9, dst.getByte(2));
        }
        // A composite destination spanning several components receives the data in place.
        CompositeByteBuf composite = track(ALLOC.compositeDirectBuffer());
        composite.addComponent(true, ALLOC.directBuffer(1024).writeZero(1024));
        composite.addComponent(true, ALLOC.directBuffer(1024).writeZero(1024));
        composite.writerIndex(0);
        ByteBuf expected = track(ALLOC.heapBuffer());
        join(b.read(1500, 4, expected));
        join(b.read(1500, 4, composite));
        assertEquals(expected, composite);
        assertEquals("jtarget-file", b.productId());
    }

    @Test
    void outOfRangeFailsWithoutTouchingTheBuffer() {
        Backstore b = open(Map.of("file", "disk.img", "size", "64K"));
        ByteBuf dst = track(ALLOC.heapBuffer(4096));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(127, 2, dst));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(-1, 1, dst));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.read(Long.MAX_VALUE, 1, dst));
        assertEquals(0, dst.writerIndex());
        ByteBuf src = track(Unpooled.directBuffer(1024).writeZero(1024));
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, b.write(127, src, false));
        ByteBuf odd = track(Unpooled.directBuffer(100).writeZero(100));
        assertReason(SenseReason.INVALID_FIELD_IN_CDB, b.write(0, odd, false));
        ByteBuf small = track(Unpooled.buffer(512, 512));
        assertReason(SenseReason.INTERNAL_TARGET_FAILURE, b.read(0, 2, small)); // a failed stage, not a throw
        assertEquals(0, small.writerIndex());
        join(b.read(127, 1, dst)); // the last block is in range
        assertEquals(512, dst.writerIndex());
    }

    @Test
    void newFileIsSparse() throws Exception {
        Backstore b = open(Map.of("file", "big/disk.img", "size", "1G", "block_size", "4096"));
        Path file = data.resolve("big/disk.img");
        assertEquals(1L << 30, Files.size(file));
        assertEquals(1L << 18, b.blockCount());
        assertTrue(allocatedBytes(file) < (1 << 20), "allocated " + allocatedBytes(file));
        ByteBuf src = track(Unpooled.directBuffer(4096).writeBytes(new byte[4096]));
        src.setByte(0, 1);
        join(b.write(100_000, src, true));
        assertTrue(allocatedBytes(file) < (1 << 20), "one block written, allocated " + allocatedBytes(file));
    }

    @Test
    void existingFileKeepsDataAndGrowsOnlyWhenAsked() throws Exception {
        Path file = data.resolve("own.img");
        byte[] content = new byte[8192];
        new Random(1).nextBytes(content);
        Files.write(file, content);
        Backstore b = open(Map.of("file", "own.img"));
        assertEquals(16, b.blockCount(), "size defaults to the file's length");
        ByteBuf dst = track(ALLOC.heapBuffer());
        join(b.read(0, 16, dst));
        assertArrayEquals(content, bytesOf(dst, 0, 8192));
        b.close();
        opened.remove(b);

        Backstore part = open(Map.of("file", "own.img", "size", "4K"));
        assertEquals(8, part.blockCount(), "a smaller size exposes the start of the file");
        part.close();
        opened.remove(part);
        assertEquals(8192, Files.size(file), "and never truncates it");

        Backstore grown = open(Map.of("file", "own.img", "size", "1M"));
        assertEquals(2048, grown.blockCount());
        assertEquals(1 << 20, Files.size(file));
        ByteBuf again = track(ALLOC.heapBuffer());
        join(grown.read(0, 16, again));
        assertArrayEquals(content, bytesOf(again, 0, 8192), "growing keeps the data");
    }

    @Test
    void readsPastTheEndOfAShortFileReturnZeros() throws Exception {
        Backstore b = open(Map.of("file", "disk.img", "size", "8K"));
        ByteBuf src = track(Unpooled.directBuffer(2048));
        for (int i = 0; i < 2048; i++) {
            src.writeByte(0x5A);
        }
        join(b.write(0, src, false));
        try (FileChannel other = FileChannel.open(data.resolve("disk.img"), StandardOpenOption.WRITE)) {
            other.truncate(700); // someone shortens the file behind our back
        }
        ByteBuf dst = track(ALLOC.directBuffer(2048));
        join(b.read(0, 4, dst));
        assertEquals(2048, dst.readableBytes());
        for (int i = 0; i < 2048; i++) {
            assertEquals(i < 700 ? 0x5A : 0, dst.getByte(i), "byte " + i);
        }
    }

    @Test
    void badParametersHaveClearMessages() {
        assertInvalid("size: 12X (expected: a number with optional K, M, G or T)",
                Map.of("file", "a.img", "size", "12X"));
        assertInvalid("size: missing (required because " + data.resolve("a.img") + " does not exist yet)",
                Map.of("file", "a.img"));
        assertInvalid("size: 0 (expected: greater than 0)", Map.of("file", "a.img", "size", "0"));
        assertInvalid("size: 1000 (expected: a multiple of the block size 512)",
                Map.of("file", "a.img", "size", "1000"));
        assertInvalid("size: 9000000T (expected: at most 8388607T)", Map.of("file", "a.img", "size", "9000000T"));
        assertInvalid("block_size: 1024 (expected: 512 or 4096)",
                Map.of("file", "a.img", "size", "1M", "block_size", "1024"));
        assertInvalid("write_cache: yes (expected: true or false)",
                Map.of("file", "a.img", "size", "1M", "write_cache", "yes"));
        assertInvalid("unknown parameter: blocksize (expected one of: ",
                Map.of("file", "a.img", "size", "1M", "blocksize", "4096"));
        assertInvalid("file: missing (expected: a path, relative to the data folder " + data + ")", Map.of("size", "1M"));
        assertInvalid("file: /nonexistent-dir-h5a/x.img (folder /nonexistent-dir-h5a does not exist)",
                Map.of("file", "/nonexistent-dir-h5a/x.img", "size", "1M"));
        assertInvalid("file: " + data + " (expected: a regular file)", Map.of("file", ".", "size", "1M"));
        assertFalse(Files.exists(data.resolve("a.img")), "a refused open leaves no file behind");
    }

    @Test
    void aFileServesOneBackstoreAtATime() {
        open(Map.of("file", "disk.img", "size", "1M"));
        assertInvalid("file: " + data.resolve("disk.img") + " (in use by another backstore or process)",
                Map.of("file", "disk.img"));
    }

    @Test
    void writeCacheFlushesOnlyOnFuaAndSynchronizeCache() throws Exception {
        CountingExecutor sync = new CountingExecutor();
        FileBackstore b = direct("wc.img", true, sync);
        ByteBuf src = track(Unpooled.directBuffer(512).writeZero(512));
        join(b.write(0, src, false));
        assertEquals(0, sync.tasks, "a cached write does not force");
        join(b.write(0, src, true));
        assertEquals(1, sync.tasks, "FUA forces before completing");
        join(b.flush());
        assertEquals(2, sync.tasks, "SYNCHRONIZE CACHE forces");

        CountingExecutor through = new CountingExecutor();
        FileBackstore wt = direct("wt.img", false, through);
        assertFalse(wt.writeCacheEnabled());
        join(wt.write(0, src, false));
        join(wt.write(1, src, false));
        assertEquals(2, through.tasks, "write-through forces every write");
    }

    @Test
    void queuedFlushesShareOneForce() throws Exception {
        List<Runnable> queue = new ArrayList<>();
        FileBackstore b = direct("gc.img", true, queue::add);
        CompletionStage<Void> first = b.flush();
        CompletionStage<Void> second = b.flush();
        ByteBuf src = track(Unpooled.directBuffer(512).writeZero(512));
        CompletionStage<Void> fua = b.write(0, src, true);
        assertEquals(1, queue.size(), "flushes arriving before the force starts join it");
        assertFalse(first.toCompletableFuture().isDone());
        queue.remove(0).run();
        join(first);
        join(second);
        join(fua);
        CompletionStage<Void> later = b.flush();
        assertEquals(1, queue.size(), "a flush after the force started needs a new one");
        queue.remove(0).run();
        join(later);
    }

    @Test
    void flushAfterProviderStopFailsNotReady() {
        Backstore b = open(Map.of("file", "disk.img", "size", "1M"));
        provider.deactivate();
        assertReason(SenseReason.LOGICAL_UNIT_NOT_READY, b.flush());
    }

    @Test
    void unmapPunchesHolesThatReadBackAsZeros() throws Exception {
        Backstore b = open(Map.of("file", "thin.img", "size", "16M"));
        assumeTrue(b.thinProvisioning().isPresent(), "JNA or hole punching unavailable here");
        ThinProvisioning thin = b.thinProvisioning().get();
        Path file = data.resolve("thin.img");
        assertEquals(new Extent(b.blockCount(), false), thin.extent(0).toCompletableFuture().join(),
                "a new file is one hole");

        byte[] ones = new byte[8 << 20];
        java.util.Arrays.fill(ones, (byte) 1);
        ByteBuf src = track(Unpooled.wrappedBuffer(ones));
        join(b.write(0, src, true));
        long full = allocatedBytes(file);
        assertTrue(full >= 8 << 20, "allocated " + full);
        assertEquals(new Extent(16384, true), thin.extent(0).toCompletableFuture().join(), "8 MiB mapped from lba 0");

        join(thin.unmap(1, 16382)); // partial first and last 4K file-system blocks
        assertTrue(allocatedBytes(file) < 64 << 10, "after unmap allocated " + allocatedBytes(file));
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(0, 16384, dst));
        for (int i = 0; i < 16384 * 512; i += 512) {
            byte expected = i == 0 || i == 16383 * 512 ? (byte) 1 : 0;
            assertEquals(expected, dst.getByte(i), "block " + i / 512);
        }
        assertTrue(thin.extent(0).toCompletableFuture().join().mapped(), "lba 0 is still mapped");
        assertTrue(!thin.extent(8).toCompletableFuture().join().mapped(), "lba 8 (second 4K block) is a hole");
        assertReason(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, thin.unmap(32767, 2));
    }

    @Test
    void destroyDeletesOnlyFilesInTheDataFolder(@TempDir Path elsewhere) throws Exception {
        BackstoreContext inside = new BackstoreContext("in", Map.of("file", "in.img", "size", "1M"), data);
        provider.openNow(inside).close();
        provider.destroyNow(inside);
        assertFalse(Files.exists(data.resolve("in.img")));

        Path own = elsewhere.resolve("own.img");
        BackstoreContext outside = new BackstoreContext("out", Map.of("file", own.toString(), "size", "1M"), data);
        provider.openNow(outside).close();
        provider.destroyNow(outside);
        assertTrue(Files.exists(own), "a user's image outside the data folder is kept");
    }

    @Test
    void encryptedRoundTripAtOddOffsetsStoresNoPlaintext() throws Exception {
        Backstore b = open(Map.of("file", "enc.img", "size", "1M", "encryption", "aes-256-ctr"));
        assertTrue(b.cryptographicErase().isPresent());
        Random random = new Random(7);
        Map<Integer, byte[]> written = new java.util.HashMap<>();
        for (int[] io : new int[][] {{0, 1}, {3, 7}, {1001, 129}, {2047, 1}, {1500, 300}}) {
            byte[] bytes = new byte[io[1] * 512];
            random.nextBytes(bytes);
            ByteBuf src = track(ALLOC.directBuffer(bytes.length + 5));
            src.writeBytes(new byte[5]).readerIndex(5);
            src.writeBytes(bytes);
            join(b.write(io[0], src, false));
            assertEquals(5, src.readerIndex());
            assertArrayEquals(bytes, bytesOf(src, 5, bytes.length), "the caller's src is not modified");
            written.put(io[0], bytes);

            ByteBuf dst = track(ALLOC.heapBuffer(3));
            dst.writeBytes(new byte[] {9, 9, 9});
            join(b.read(io[0], io[1], dst));
            assertArrayEquals(bytes, bytesOf(dst, 3, bytes.length), "lba " + io[0] + " blocks " + io[1]);
        }
        // Blocks of one large write read one at a time: the counter of each follows from its offset alone.
        byte[] large = written.get(1001);
        for (int k = 0; k < 129; k += 17) {
            ByteBuf one = track(ALLOC.directBuffer());
            join(b.read(1001 + k, 1, one));
            assertArrayEquals(java.util.Arrays.copyOfRange(large, k * 512, k * 512 + 512), bytesOf(one, 0, 512),
                    "block " + (1001 + k));
        }
        // A composite source and destination with pieces that do not end on 16-byte boundaries.
        byte[] bytes = new byte[1024];
        random.nextBytes(bytes);
        CompositeByteBuf src = track(ALLOC.compositeDirectBuffer());
        src.addComponent(true, Unpooled.wrappedBuffer(bytes, 0, 37));
        src.addComponent(true, Unpooled.wrappedBuffer(bytes, 37, 1024 - 37));
        join(b.write(600, src, true));
        CompositeByteBuf composite = track(ALLOC.compositeDirectBuffer());
        composite.addComponent(true, ALLOC.directBuffer(333).writeZero(333));
        composite.addComponent(true, ALLOC.directBuffer(691).writeZero(691));
        composite.writerIndex(0);
        join(b.read(600, 2, composite));
        assertArrayEquals(bytes, bytesOf(composite, 0, 1024));
        written.put(600, bytes);

        byte[] disk = Files.readAllBytes(data.resolve("enc.img"));
        for (Map.Entry<Integer, byte[]> w : written.entrySet()) {
            byte[] stored = java.util.Arrays.copyOfRange(disk, w.getKey() * 512, w.getKey() * 512 + w.getValue().length);
            assertFalse(java.util.Arrays.equals(w.getValue(), stored), "plaintext on disk at lba " + w.getKey());
            int same = 0;
            for (int i = 0; i < stored.length; i++) {
                same += stored[i] == w.getValue()[i] ? 1 : 0;
            }
            assertTrue(same < stored.length / 64, "ciphertext looks like plaintext at lba " + w.getKey());
        }
        // Same plaintext at two offsets: different ciphertext (the counter depends on the offset).
        ByteBuf zeros = track(Unpooled.directBuffer(1024).writeZero(1024));
        join(b.write(10, zeros, false));
        disk = Files.readAllBytes(data.resolve("enc.img"));
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(disk, 5120, 5632),
                java.util.Arrays.copyOfRange(disk, 5632, 6144)));
        assertFalse(java.util.Arrays.equals(new byte[512], java.util.Arrays.copyOfRange(disk, 5120, 5632)),
                "written zeros are stored encrypted");
        ByteBuf dst = track(ALLOC.directBuffer());
        join(b.read(10, 2, dst));
        assertArrayEquals(new byte[1024], bytesOf(dst, 0, 1024));

        // Reopen: the key file gives the same data back.
        b.close();
        opened.remove(b);
        Backstore again = open(Map.of("file", "enc.img", "encryption", "aes-256-ctr"));
        for (Map.Entry<Integer, byte[]> w : written.entrySet()) {
            ByteBuf r = track(ALLOC.directBuffer());
            join(again.read(w.getKey(), w.getValue().length / 512, r));
            assertArrayEquals(w.getValue(), bytesOf(r, 0, w.getValue().length), "after reopen, lba " + w.getKey());
        }
    }

    @Test
    void eraseKeyMakesWrittenDataUnreadableWhileReadsSucceedAndHolesReadZeros() throws Exception {
        Backstore b = open(Map.of("file", "enc.img", "size", "1M", "block_size", "4096",
                "encryption", "aes-256-ctr"));
        Path keyFile = data.resolve("keys/t.key");
        assertTrue(Files.exists(keyFile));
        byte[] oldKey = Files.readAllBytes(keyFile);
        byte[] bytes = new byte[3 * 4096];
        java.util.Arrays.fill(bytes, (byte) 'a');
        join(b.write(5, track(Unpooled.wrappedBuffer(bytes)), true));
        ByteBuf before = track(ALLOC.directBuffer());
        join(b.read(0, 10, before));
        assertArrayEquals(new byte[5 * 4096], bytesOf(before, 0, 5 * 4096), "never-written blocks read zeros");
        assertArrayEquals(bytes, bytesOf(before, 5 * 4096, bytes.length));

        join(b.cryptographicErase().get().eraseKey());
        assertFalse(java.util.Arrays.equals(oldKey, Files.readAllBytes(keyFile)), "a new key");
        try (var list = Files.list(keyFile.getParent())) {
            assertEquals(List.of(keyFile), list.toList(), "no temporary file left");
        }
        ByteBuf after = track(ALLOC.directBuffer());
        join(b.read(0, 10, after));
        assertArrayEquals(new byte[5 * 4096], bytesOf(after, 0, 5 * 4096), "holes still read zeros");
        byte[] garbage = bytesOf(after, 5 * 4096, bytes.length);
        int same = 0;
        for (int i = 0; i < garbage.length; i++) {
            same += garbage[i] == 'a' ? 1 : 0;
        }
        assertTrue(same < garbage.length / 64, "old data readable after erase: " + same + " bytes");

        if (b.thinProvisioning().isPresent()) { // unmapped blocks read zeros too
            join(b.thinProvisioning().get().unmap(6, 1));
            ByteBuf unmapped = track(ALLOC.directBuffer());
            join(b.read(6, 1, unmapped));
            assertArrayEquals(new byte[4096], bytesOf(unmapped, 0, 4096));
        }
        // New data under the new key survives a reopen.
        join(b.write(7, track(Unpooled.wrappedBuffer(java.util.Arrays.copyOf(bytes, 4096))), true));
        b.close();
        opened.remove(b);
        Backstore again = open(Map.of("file", "enc.img", "block_size", "4096", "encryption", "aes-256-ctr"));
        ByteBuf r = track(ALLOC.directBuffer());
        join(again.read(7, 1, r));
        assertArrayEquals(java.util.Arrays.copyOf(bytes, 4096), bytesOf(r, 0, 4096));
    }

    @Test
    void keyFileIsPrivateAndGoesWithTheImage() throws Exception {
        BackstoreContext context = new BackstoreContext("secret",
                Map.of("file", "s.img", "size", "1M", "encryption", "aes-256-ctr"), data);
        Backstore b = provider.openNow(context);
        Path keyFile = data.resolve("keys/secret.key");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keyFile)));
        join(b.cryptographicErase().get().eraseKey());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keyFile)), "still private after erase");
        b.close();
        provider.destroyNow(context);
        assertFalse(Files.exists(data.resolve("s.img")));
        assertFalse(Files.exists(keyFile), "destroy deletes the key");
    }

    @Test
    void encryptionParameterIsChecked() throws Exception {
        assertInvalid("encryption: aes (expected: none or aes-256-ctr)",
                Map.of("file", "a.img", "size", "1M", "encryption", "aes"));
        assertFalse(Files.exists(data.resolve("a.img")));
        Backstore plain = open(Map.of("file", "plain.img", "size", "1M", "encryption", "none"));
        assertFalse(plain.cryptographicErase().isPresent());
        plain.close();
        opened.remove(plain);
        assertInvalid("encryption: aes-256-ctr (key file " + data.resolve("keys/t.key") + " is missing",
                Map.of("file", "plain.img", "encryption", "aes-256-ctr"));
        assertFalse(Files.exists(data.resolve("keys/t.key")));
        assertTrue(provider.parameters().stream().anyMatch(d -> d.name().equals("encryption")
                && "none".equals(d.defaultValue())));

        Backstore secret = open(Map.of("file", "secret.img", "size", "1M", "encryption", "aes-256-ctr"));
        secret.close();
        opened.remove(secret);
        assertInvalid("encryption: none (" + data.resolve("secret.img") + " is encrypted with the key "
                + data.resolve("keys/t.key"), Map.of("file", "secret.img"));
    }

    // helpers

    private Backstore open(Map<String, String> parameters) {
        try {
            Backstore b = provider.openNow(new BackstoreContext("t", parameters, data));
            opened.add(b);
            return b;
        } catch (BackstoreException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private FileBackstore direct(String name, boolean writeCache, Executor executor) throws IOException {
        Path file = data.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1 << 20);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileBackstore b = new FileBackstore(name, file, channel, 512, 2048, writeCache, executor, null);
        opened.add(b);
        return b;
    }

    private void assertInvalid(String messageStart, Map<String, String> parameters) {
        BackstoreException e = assertThrows(BackstoreException.class,
                () -> opened.add(provider.openNow(new BackstoreContext("t", parameters, data))));
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

    private static byte[] bytesOf(ByteBuf buf, int index, int length) {
        byte[] out = new byte[length];
        buf.getBytes(index, out);
        return out;
    }

    /** Bytes the file system allocated to the file (st_blocks * 512), via du(1). */
    static long allocatedBytes(Path file) throws IOException {
        Process du = new ProcessBuilder("du", "-B1", file.toString()).redirectErrorStream(true).start();
        try {
            String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            du.waitFor();
            return Long.parseLong(out.split("\\s+")[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            du.destroy();
        }
    }

    private static final class CountingExecutor implements Executor {
        int tasks;

        @Override
        public void execute(Runnable command) {
            tasks++;
            CompletableFuture.runAsync(command).join();
        }
    }
}
