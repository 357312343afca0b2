package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Virtual-host addressing ({@code http://BUCKET.HOST:PORT/KEY}, AWS S3's default) against S3Proxy taking
 * virtual-host requests for {@value #HOST}. Runs in its own JVM, whose names resolve through the tests' hosts
 * file ({@code virtual-host.hosts}: {@value #HOST} and {@code vhost.}{@value #HOST} are 127.0.0.1, nothing else
 * is known), so a request reaches the server only if the client put the bucket into the host name.
 */
class S3VirtualHostTest {
    static final String HOST = "s3.jtarget.test";
    static final int MIB = 1 << 20;
    @TempDir
    static Path dir;
    static S3ProxyServer server;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(System.getProperty("jdk.net.hosts.file") != null,
                "needs the hosts file of the s3 module's virtual-host test run (mvn test in backstores/s3)");
        server = S3ProxyServer.start(dir, HOST);
        server.bucket("vhost");
        server.bucket("other"); // no name of its own in the hosts file
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static String endpoint() {
        return "http://" + HOST + ":" + server.port();
    }

    static S3Client client(String bucket, boolean pathStyle) {
        return new S3Client(S3ClientTest.HTTP, URI.create(endpoint()), bucket, pathStyle,
                new SigV4(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, "us-east-1"), 1, 0);
    }

    @Test
    void theHostsFileIsTheOnlyResolver() throws Exception {
        assertEquals("127.0.0.1", InetAddress.getByName("vhost." + HOST).getHostAddress());
        assertThrows(UnknownHostException.class, () -> InetAddress.getByName("other." + HOST));
    }

    @Test
    void clientPutsGetsListsAndDeletesThroughTheBucketsHostName() throws Exception {
        S3ClientTest.roundTrip(client("vhost", false), server.basedir().resolve("vhost"), "lun/");
    }

    @Test
    void aBucketIsAddressedByItsHostNameOnlyWithoutPathStyle() throws Exception {
        // "other" exists on the server, but other.s3.jtarget.test resolves nowhere: virtual-host requests fail,
        // path-style ones (bucket in the path, endpoint host only) succeed
        IOException e = assertThrows(IOException.class, () -> client("other", false).put("k", new byte[1], false));
        assertEquals("http://other." + HOST + ": unknown host (virtual-host addressing puts the bucket into the host "
                + "name; path_style=true puts it into the path)", e.getMessage());
        assertTrue(client("other", true).put("k", new byte[] {7}, false));
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(server.basedir().resolve("other/k")));
    }

    @Test
    void backstoreWithPathStyleFalseStoresObjectsAndReadsThemBackAfterReopening() throws Exception {
        Map<String, String> params = Map.of("bucket", "vhost", "size", "8M", "endpoint", endpoint(),
                "path_style", "false", "access_key", S3ProxyServer.ACCESS_KEY, "secret_key", S3ProxyServer.SECRET_KEY,
                "cache_size", "4M");
        Path home = Files.createDirectories(dir.resolve("home"));
        byte[] pattern = new byte[2 * MIB + 4096];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 13 + 5);
        }
        S3BackstoreProvider provider = new S3BackstoreProvider();
        try {
            Backstore b = await(provider.open(new BackstoreContext("vh", params, home)));
            ByteBuf src = Unpooled.wrappedBuffer(pattern);
            try {
                await(b.write(2048 + 8, src, false)); // objects 1 to 3, not aligned
            } finally {
                src.release();
            }
            await(b.flush());
            Path lun = server.basedir().resolve("vhost/vh");
            for (String key : List.of("0000000000000001", "0000000000000002", "0000000000000003", "jtarget.json")) {
                assertTrue(Files.isRegularFile(lun.resolve(key)), key + " stored through vhost." + HOST);
            }
            await(b.close());

            Path otherHome = Files.createDirectories(dir.resolve("home2")); // no local cache: from S3 only
            Backstore again = await(provider.open(new BackstoreContext("vh", params, otherHome)));
            ByteBuf got = await(again.read(2048 + 8, pattern.length / 512, ByteBufAllocator.DEFAULT));
            try {
                byte[] out = new byte[got.readableBytes()];
                got.readBytes(out);
                assertArrayEquals(pattern, out);
            } finally {
                got.release();
            }
            await(again.close());
        } finally {
            provider.deactivate();
        }
    }

    static <T> T await(CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
