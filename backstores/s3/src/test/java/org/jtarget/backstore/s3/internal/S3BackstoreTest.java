package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.Extent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The s3 backstore through its provider against a real S3 server (S3Proxy, filesystem backend, authentication
 * on): what it stores is checked in the server's folder (bucket = folder, object = file).
 */
class S3BackstoreTest {
    static final int MIB = 1 << 20;
    @TempDir
    static Path dir;
    static S3ProxyServer server;
    static Path bucket;
    final S3BackstoreProvider provider = new S3BackstoreProvider();
    Path home;
    String name;

    @BeforeAll
    static void start() throws Exception {
        server = S3ProxyServer.start(dir);
        bucket = server.bucket("bkt");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void deactivate() {
        provider.deactivate();
    }

    void name(TestInfo info) throws Exception {
        name = info.getTestMethod().orElseThrow().getName();
        home = Files.createDirectories(dir.resolve("home-" + name));
    }

    Map<String, String> params(String... kv) {
        Map<String, String> p = new HashMap<>(Map.of("bucket", "bkt", "size", "16M", "endpoint", server.endpoint(),
                "access_key", S3ProxyServer.ACCESS_KEY, "secret_key", S3ProxyServer.SECRET_KEY, "cache_size", "8M"));
        for (int i = 0; i < kv.length; i += 2) {
            p.put(kv[i], kv[i + 1]);
        }
        return p;
    }

    Backstore open(Map<String, String> params, Path data) throws Exception {
        return provider.open(new BackstoreContext(name, params, data)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    BackstoreException openFails(Map<String, String> params, Path data) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> open(params, data));
        return assertInstanceOf(BackstoreException.class, e.getCause());
    }

    static void await(java.util.concurrent.CompletionStage<?> s) throws Exception {
        s.toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + i * 13 + 1);
        }
        return b;
    }

    static void write(Backstore b, long lba, byte[] data, boolean fua) throws Exception {
        ByteBuf src = Unpooled.wrappedBuffer(data);
        try {
            await(b.write(lba, src, fua));
        } finally {
            src.release();
        }
    }

    static byte[] read(Backstore b, long lba, int blocks) throws Exception {
        ByteBuf buf = b.read(lba, blocks, ByteBufAllocator.DEFAULT).toCompletableFuture().get(60, TimeUnit.SECONDS);
        try {
            byte[] out = new byte[buf.readableBytes()];
            buf.readBytes(out);
            return out;
        } finally {
            buf.release();
        }
    }

    /** The object files the server holds for the LUN. */
    Keys objects() throws Exception {
        Path lun = bucket.resolve(name);
        if (!Files.isDirectory(lun)) {
            return new Keys(new TreeSet<>());
        }
        try (Stream<Path> s = Files.list(lun)) {
            return new Keys(s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)));
        }
    }

    record Keys(TreeSet<String> names) {
    }

    static Keys set(String... names) {
        return new Keys(new TreeSet<>(List.of(names)));
    }

    static String key(long object) {
        return String.format("%016x", object);
    }

    @Test
    void writesBecomeObjectsAndUnwrittenBlocksStoreNothing(TestInfo info) throws Exception {
        name(info);
        Backstore b = open(params(), home);
        assertEquals(512, b.blockSize());
        assertEquals(16 * MIB / 512, b.blockCount());
        assertEquals(MIB, b.limits().optimalGranularityBytes());
        assertEquals(MIB, b.limits().unmapGranularityBytes());
        assertEquals(1024L * MIB, b.limits().maxUnmapBytes(), "one UNMAP descriptor covers at most 1024 objects");
        assertTrue(b.writeCacheEnabled());
        write(b, 0, pattern(4096, 1), false);
        write(b, 5 * 2048 + 7, pattern(3 * MIB, 2), false); // objects 5 to 8, not aligned
        assertArrayEquals(pattern(4096, 1), read(b, 0, 8));
        assertArrayEquals(new byte[4096], read(b, 8, 8), "never written: zeros");
        await(b.flush());
        assertEquals(set(key(0), key(5), key(6), key(7), key(8), "jtarget.json", "jtarget.lease"), objects());
        byte[] first = Files.readAllBytes(bucket.resolve(name).resolve(key(0)));
        assertEquals(MIB, first.length);
        byte[] expected = new byte[MIB];
        System.arraycopy(pattern(4096, 1), 0, expected, 0, 4096);
        assertArrayEquals(expected, first);
        assertEquals("{\"format\":1,\"size\":16777216,\"block_size\":512,\"object_size\":1048576}\n",
                Files.readString(bucket.resolve(name).resolve("jtarget.json")));
        assertArrayEquals(pattern(3 * MIB, 2), read(b, 5 * 2048 + 7, 3 * 2048));
        await(b.close());
        assertFalse(objects().names().contains("jtarget.lease"), "lease released at close");
    }

    @Test
    void unmapAndWritesOfZerosDeleteObjects(TestInfo info) throws Exception {
        name(info);
        Backstore b = open(params(), home);
        write(b, 2 * 2048, pattern(2 * MIB, 3), false); // objects 2 and 3
        write(b, 6 * 2048, pattern(MIB, 4), true);      // FUA: object 6 is in S3 when acknowledged
        assertTrue(objects().names().contains(key(6)));
        await(b.flush());
        assertEquals(new Extent(2048, true), await2(b.thinProvisioning().orElseThrow().extent(2 * 2048)));
        assertEquals(new Extent(2048 - 100, false), await2(b.thinProvisioning().orElseThrow().extent(4 * 2048 + 100)));
        await(b.thinProvisioning().orElseThrow().unmap(2 * 2048, 2048));
        assertFalse(objects().names().contains(key(2)), "UNMAP of a whole object deletes it at once");
        assertArrayEquals(new byte[MIB], read(b, 2 * 2048, 2048));
        write(b, 3 * 2048, new byte[MIB], false);
        await(b.zeroWriting().orElseThrow().writeZeroes(6 * 2048, 2048, false, true));
        await(b.flush());
        assertEquals(set("jtarget.json", "jtarget.lease"), objects());
        assertEquals(new Extent(2048, false), await2(b.thinProvisioning().orElseThrow().extent(3 * 2048)));
        await(b.close());
    }

    static <T> T await2(java.util.concurrent.CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Test
    void dataSurviveCloseAndReopenWithoutListing(TestInfo info) throws Exception {
        name(info);
        Backstore b = open(params(), home);
        write(b, 100, pattern(8192, 5), false);
        await(b.close()); // flushes
        Backstore again = open(params(), home);
        assertArrayEquals(pattern(8192, 5), read(again, 100, 16));
        await(again.close());
    }

    @Test
    void aSecondInstanceIsRefusedByTheLease(TestInfo info) throws Exception {
        name(info);
        Backstore b = open(params(), home);
        Path otherHome = Files.createDirectories(dir.resolve("other-" + name));
        BackstoreException e = openFails(params(), otherHome);
        assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, e.reason());
        assertTrue(e.getMessage().contains("in use by another jtarget instance"), e.getMessage());
        assertTrue(e.getMessage().contains(home.toString()), "names the holder: " + e.getMessage());
        await(b.close());
        await(open(params(), otherHome).close()); // free again once closed
    }

    @Test
    void aChangedGeometryIsRefused(TestInfo info) throws Exception {
        name(info);
        await(open(params(), home).close());
        BackstoreException e = openFails(params("size", "32M"), home);
        assertEquals("size: 33554432 (expected: 16777216, the value s3://bkt/" + name + "/ at " + server.endpoint()
                + " was created with)", e.getMessage());
        e = openFails(params("object_size", "2M"), home);
        assertTrue(e.getMessage().startsWith("object_size: 2097152 (expected: 1048576"), e.getMessage());
    }

    @Test
    void wrongCredentialsMissingBucketAndUnreachableServerAreToldApart(TestInfo info) throws Exception {
        name(info);
        BackstoreException e = openFails(params("secret_key", "not-the-secret"), home);
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, e.reason());
        assertTrue(e.getMessage().startsWith("access_key: " + S3ProxyServer.ACCESS_KEY + " (the server " + server.endpoint()
                + " refused the credentials: HTTP 403"), e.getMessage());
        assertFalse(e.getMessage().contains("not-the-secret"));
        e = openFails(params("bucket", "nobucket"), home);
        assertEquals("bucket: nobucket (does not exist at " + server.endpoint() + ")", e.getMessage());
        try (java.net.Socket reserved = S3ClientTest.refusingPort()) {
            int port = reserved.getLocalPort();
            e = openFails(params("endpoint", "http://127.0.0.1:" + port), home);
            assertEquals(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, e.reason());
            assertEquals("endpoint: http://127.0.0.1:" + port + " (unreachable: http://127.0.0.1:" + port
                    + ": connection refused)", e.getMessage());
        }
        assertFalse(Files.exists(bucket.resolve(name)), "nothing stored");
    }

    @Test
    void credentialsFromAFile(TestInfo info) throws Exception {
        name(info);
        Files.writeString(home.resolve("s3.credentials"), "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        Map<String, String> p = params("credentials", "s3.credentials");
        p.remove("access_key");
        p.remove("secret_key");
        Backstore b = open(p, home);
        write(b, 0, pattern(512, 9), true);
        assertTrue(objects().names().contains(key(0)));
        await(b.close());
    }

    @Test
    void destroyDeletesTheObjectsAndTheLocalCache(TestInfo info) throws Exception {
        name(info);
        Backstore b = open(params(), home);
        write(b, 0, pattern(MIB, 1), false);
        write(b, 4 * 2048, pattern(MIB, 2), false);
        await(b.close());
        assertEquals(set(key(0), key(4), "jtarget.json"), objects());
        await(provider.destroy(new BackstoreContext(name, params(), home)));
        assertEquals(set(), objects());
        try (Stream<Path> s = Files.list(home.resolve("s3"))) {
            assertEquals(List.of(), s.collect(Collectors.toList()));
        }
    }

    @Test
    void invalidParametersSayWhatIsExpected(TestInfo info) throws Exception {
        name(info);
        assertEquals("object_size: 1000 (expected: a multiple of the block size 512 from 4K to 64M)",
                openFails(params("object_size", "1000"), home).getMessage());
        Map<String, String> p = params();
        p.remove("secret_key");
        assertEquals("secret_key: missing (expected: access_key and secret_key, or credentials=FILE)",
                openFails(p, home).getMessage());
        assertEquals("endpoint: ftp://x (expected: http(s)://host[:port])",
                openFails(params("endpoint", "ftp://x"), home).getMessage());
    }
}
