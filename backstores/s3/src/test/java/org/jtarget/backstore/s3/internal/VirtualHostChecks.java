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
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.Test;

/**
 * Virtual-host addressing ({@code http://BUCKET.HOST:PORT/KEY}, AWS S3's default) against a server that takes
 * virtual-host requests for {@link #host()}, checked the same way for each server. The subclasses run in the s3
 * module's virtual-host JVM, whose names resolve only through the tests' hosts file ({@code virtual-host.hosts}):
 * {@code vhost.HOST} is 127.0.0.1 and {@code other.HOST} is not known, so a request reaches the server only if the
 * client put the bucket into the host name. Both buckets exist on the server.
 */
abstract class VirtualHostChecks {
    static final int MIB = 1 << 20;

    /** What the server itself stored for {@code key} in {@code bucket} (not read through S3), or null. */
    interface Storage {
        byte[] get(String bucket, String key) throws Exception;
    }

    /**
     * The server under test: virtual-host requests for {@code host}, on {@code port}; {@code dir} holds the
     * backstore's local caches.
     */
    record Server(String host, int port, String accessKey, String secretKey, Storage storage, Path dir) {
    }

    abstract Server server();

    private String host() {
        return server().host();
    }

    private byte[] stored(String bucket, String key) throws Exception {
        return server().storage().get(bucket, key);
    }

    private Path home(String name) throws IOException {
        return Files.createDirectories(server().dir().resolve(name));
    }

    final String endpoint() {
        return "http://" + host() + ":" + server().port();
    }

    final S3Client client(String bucket, boolean pathStyle) {
        return new S3Client(S3ClientTest.HTTP, URI.create(endpoint()), bucket, pathStyle,
                new SigV4(server().accessKey(), server().secretKey(), "us-east-1"), 1, 0);
    }

    @Test
    void clientPutsGetsListsAndDeletesThroughTheBucketsHostName() throws Exception {
        S3ClientTest.roundTrip(client("vhost", false), key -> stored("vhost", key), "lun/");
    }

    @Test
    void aBucketIsAddressedByItsHostNameOnlyWithoutPathStyle() throws Exception {
        // "other" exists on the server, but other.HOST resolves nowhere: virtual-host requests fail,
        // path-style ones (bucket in the path, endpoint host only) succeed
        IOException e = assertThrows(IOException.class, () -> client("other", false).put("k", new byte[1], false));
        assertEquals("http://other." + host() + ": unknown host (virtual-host addressing puts the bucket into the host "
                + "name; path_style=true puts it into the path)", e.getMessage());
        assertTrue(client("other", true).put("k", new byte[] {7}, false));
        assertArrayEquals(new byte[] {7}, stored("other", "k"));
    }

    @Test
    void backstoreWithPathStyleFalseStoresObjectsAndReadsThemBackAfterReopening() throws Exception {
        Map<String, String> params = Map.of("bucket", "vhost", "size", "8M", "endpoint", endpoint(),
                "path_style", "false", "access_key", server().accessKey(), "secret_key", server().secretKey(),
                "cache_size", "4M");
        byte[] pattern = new byte[2 * MIB + 4096];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 13 + 5);
        }
        S3BackstoreProvider provider = new S3BackstoreProvider();
        try {
            Backstore b = await(provider.open(new BackstoreContext("vh", params, home("home"))));
            ByteBuf src = Unpooled.wrappedBuffer(pattern);
            try {
                await(b.write(2048 + 8, src, false)); // objects 1 to 3, not aligned
            } finally {
                src.release();
            }
            await(b.flush());
            for (String key : List.of("0000000000000001", "0000000000000002", "0000000000000003", "jtarget.json")) {
                assertTrue(stored("vhost", "vh/" + key) != null, key + " stored through vhost." + host());
            }
            await(b.close());

            // no local cache: from S3 only
            Backstore again = await(provider.open(new BackstoreContext("vh", params, home("home2"))));
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

    /** Skips (before any server is started) unless this JVM resolves through the tests' hosts file. */
    static void requireHostsFile() {
        assumeTrue(System.getProperty("jdk.net.hosts.file") != null,
                "needs the hosts file of the s3 module's virtual-host test run (mvn test in backstores/s3)");
    }

    /** Creates the buckets the checks use: vhost, and other (which has no host name). */
    static void buckets(S3Like server) throws Exception {
        server.bucket("vhost");
        server.bucket("other"); // no name of its own in the hosts file
    }

    /** A test server's bucket creation. */
    interface S3Like {
        void bucket(String name) throws Exception;
    }
}
