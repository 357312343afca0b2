package org.jtarget.backstore.nbd.internal;

import static org.jtarget.backstore.nbd.internal.NbdProtocolTest.bytes;
import static org.jtarget.backstore.nbd.internal.NbdProtocolTest.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.junit.jupiter.api.Test;

/** The backstore against nbdkit (memory and file plugins) and nbd-server, started here on 127.0.0.1. */
class NbdRealServerTest extends ClientFixture {
    NbdRealServerTest() {
        super(2, 3000, 30_000, 20_000);
    }

    private ServerProcess started(ServerProcess p) {
        cleanup.add(p);
        return p;
    }

    private NbdBackstore open(String uri) throws Exception {
        NbdBackstore b = (NbdBackstore) provider.open(new BackstoreContext("d1", Map.of("uri", uri), dir))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        cleanup.add(() -> b.close().toCompletableFuture().get(10, TimeUnit.SECONDS));
        return b;
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 13 + (i >> 9));
        }
        return b;
    }

    private static void roundTrip(Backstore b, long lba, int blocks, long seed) throws Exception {
        byte[] data = pattern(blocks * b.blockSize(), seed);
        get(b.write(lba, Unpooled.wrappedBuffer(data), false));
        assertArrayEquals(data, bytes(get(b.read(lba, blocks, UnpooledByteBufAllocator.DEFAULT))), "at LBA " + lba);
    }

    @Test
    void nbdkitMemoryRoundTripsFlushesTrimsAndReportsAllocation() throws Exception {
        ServerProcess kit = started(ServerProcess.nbdkit(dir, "memory", "64M"));
        NbdBackstore b = open(kit.uri(""));
        assertEquals(512, b.blockSize());
        assertEquals((64L << 20) / 512, b.blockCount());
        assertTrue(b.writeCacheEnabled(), "nbdkit offers FLUSH: WCE=1");
        assertEquals(4, b.connectionCount(), "nbdkit memory advertises multi-conn");
        roundTrip(b, 0, 1, 1);
        roundTrip(b, 1001, 7, 2);
        roundTrip(b, b.blockCount() - 1, 1, 3);
        roundTrip(b, 8192, (int) (b.limits().maxTransferBytes() / 512), 4);
        get(b.write(b.blockCount() - 8, Unpooled.wrappedBuffer(pattern(4096, 5)), true)); // FUA
        get(b.flush());

        ThinProvisioning thin = b.thinProvisioning().orElseThrow();
        assertEquals(new Extent(8192 + b.limits().maxTransferBytes() / 512, true).mapped(), get(thin.extent(8192)).mapped());
        Extent hole = get(thin.extent(4096));
        assertFalse(hole.mapped(), "never written: a hole");
        assertEquals(8192 - 4096, hole.blocks(), "up to the data written at LBA 8192");
        get(thin.unmap(8192, 2048)); // 1 MiB
        Extent trimmed = get(thin.extent(8192));
        assertFalse(trimmed.mapped(), "deallocated by the unmap");
        assertTrue(trimmed.blocks() >= 2048, "the whole unmapped range: " + trimmed);
        assertArrayEquals(new byte[1 << 20], bytes(get(b.read(8192, 2048, UnpooledByteBufAllocator.DEFAULT))));
        assertTrue(get(thin.extent(8192 + 2048)).mapped(), "data after the unmapped range stays");

        get(b.zeroWriting().orElseThrow().writeZeroes(0, 8, false, false));
        assertArrayEquals(new byte[4096], bytes(get(b.read(0, 8, UnpooledByteBufAllocator.DEFAULT))));
    }

    @Test
    void nbdkitOnAUnixSocket() throws Exception {
        Path socket = dir.resolve("nbd.sock");
        started(ServerProcess.nbdkitUnix(socket, dir, "memory", "16M"));
        NbdBackstore b = open("nbd+unix:///?socket=" + socket);
        assertEquals((16L << 20) / 512, b.blockCount());
        roundTrip(b, 5, 3, 21);
        roundTrip(b, b.blockCount() - 1, 1, 22);
    }

    @Test
    void manyRequestsInFlightOnSeveralConnections() throws Exception {
        ServerProcess kit = started(ServerProcess.nbdkit(dir, "memory", "64M"));
        NbdBackstore b = open(kit.uri(""));
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            writes.add(b.write(i * 8L, Unpooled.wrappedBuffer(pattern(4096, i)), false).toCompletableFuture());
        }
        get(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
        List<CompletableFuture<ByteBuf>> reads = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            reads.add(b.read(i * 8L, 8, UnpooledByteBufAllocator.DEFAULT).toCompletableFuture());
        }
        for (int i = 0; i < 400; i++) {
            assertArrayEquals(pattern(4096, i), bytes(get(reads.get(i))), "block " + i * 8);
        }
    }

    @Test
    void nbdServerWithoutFlushHasNoWriteCache() throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        ServerProcess server = started(ServerProcess.nbdServer(dir, image));
        NbdBackstore b = open(server.uri("disk"));
        assertFalse(b.writeCacheEnabled(), "nbd-server does not offer FLUSH: WCE=0");
        assertEquals((16L << 20) / 512, b.blockCount());
        roundTrip(b, 0, 8, 11);
        roundTrip(b, b.blockCount() - 1, 1, 12);
        get(b.flush()); // nothing to send; completes
        byte[] onDisk = new byte[512];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek((16L << 20) - 512);
            f.readFully(onDisk);
        }
        assertArrayEquals(pattern(512, 12), onDisk, "the write reached the server's file");

        BackstoreException missing = failure(provider.open(new BackstoreContext("d2", Map.of("uri", server.uri("nope")), dir)));
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, missing.reason());
        assertTrue(missing.getMessage().startsWith(server.uri("nope") + ": export \"nope\" not found"), missing.getMessage());
    }

    /**
     * nbdkit (file plugin, so acknowledged writes survive it) is killed with 64 writes in flight and
     * started again: every request completes, successfully or with NOT READY, and every block holds what
     * the last acknowledged write put there (or what a write that failed was writing).
     */
    @Test
    void aServerKilledAndRestartedUnderIo() throws Exception {
        Path image = dir.resolve("kill.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32 << 20);
        }
        ServerProcess kit = started(ServerProcess.nbdkit(dir, "file", image.toString()));
        NbdBackstore b = open(kit.uri(""));
        int blocks = 64;
        Map<Integer, List<Long>> possible = new HashMap<>();
        for (int i = 0; i < blocks; i++) {
            get(b.write(i * 8L, Unpooled.wrappedBuffer(pattern(4096, i)), false));
            possible.put(i, new ArrayList<>(List.of((long) i)));
        }
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < blocks; i++) {
            writes.add(b.write(i * 8L, Unpooled.wrappedBuffer(pattern(4096, 1000 + i)), false).toCompletableFuture());
        }
        kit.kill();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.connected() > 0) {
            assertTrue(System.nanoTime() < deadline, "the killed server was never noticed");
            Thread.onSpinWait();
        }
        BackstoreException down = failure(b.read(0, 1, UnpooledByteBufAllocator.DEFAULT));
        assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, down.reason(), down.getMessage());
        kit.start();
        int succeeded = 0;
        for (int i = 0; i < blocks; i++) {
            try {
                writes.get(i).get(30, TimeUnit.SECONDS);
                possible.put(i, List.of(1000L + i));
                succeeded++;
            } catch (ExecutionException e) {
                BackstoreException be = (BackstoreException) e.getCause();
                assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, be.reason(), be.getMessage());
                possible.get(i).add(1000L + i); // a failed write leaves either content
            }
        }
        System.out.println("writes in flight at the kill: " + succeeded + " of " + blocks + " completed after the reconnection");
        for (int i = 0; i < blocks; i++) {
            byte[] read = bytes(get(b.read(i * 8L, 8, UnpooledByteBufAllocator.DEFAULT)));
            boolean ok = false;
            for (long seed : possible.get(i)) {
                ok |= java.util.Arrays.equals(pattern(4096, seed), read);
            }
            assertTrue(ok, "block " + i + " holds what a write of seeds " + possible.get(i) + " wrote");
        }
        roundTrip(b, 0, 8, 7);
    }
}
