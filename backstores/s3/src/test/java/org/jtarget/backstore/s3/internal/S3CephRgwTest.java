package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client and the s3 backstore against a real Ceph RADOS Gateway (Debian's Ceph 16.2.15, {@link CephRgwServer}:
 * one gateway, monitor and OSD for the whole class), path-style. What is stored is checked in RADOS itself with the
 * {@code rados} tool, and through the gateway by listing. Unlike S3Proxy 2.6.0, the gateway honours
 * {@code If-None-Match: *} on PUT, so the lease's race is refused by the server itself.
 */
class S3CephRgwTest {
    static final int MIB = 1 << 20;
    private static final AtomicInteger LUNS = new AtomicInteger();
    @TempDir
    static Path dir;
    static CephRgwServer server;

    @BeforeAll
    static void start() throws Exception {
        server = CephRgwServer.start(dir.resolve("ceph"));
        server.bucket("bkt");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static S3Client client(HttpClient http, String bucket, String secret) {
        return new S3Client(http, URI.create(server.endpoint()), bucket, true,
                new SigV4(CephRgwServer.ACCESS_KEY, secret, "us-east-1"), 2, 10);
    }

    static Map<String, String> params(String bucket) {
        return Map.of("bucket", bucket, "size", "16M", "endpoint", server.endpoint(), "access_key",
                CephRgwServer.ACCESS_KEY, "secret_key", CephRgwServer.SECRET_KEY, "cache_size", "8M");
    }

    static Backstore open(S3BackstoreProvider provider, String name, Path home) throws Exception {
        return provider.open(new BackstoreContext(name, params("bkt"), home)).toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
    }

    @Test
    void putGetListDeleteRoundTripIsStoredInRados() throws Exception {
        S3ClientTest.roundTrip(client(S3ClientTest.HTTP, "bkt", CephRgwServer.SECRET_KEY),
                key -> server.stored("bkt", key), "lun a/");
    }

    @Test
    void wrongSecretIsRefusedAsCredentialsAndAMissingBucketByItsCode() {
        S3Exception e = assertThrows(S3Exception.class, () -> client(S3ClientTest.HTTP, "bkt", "wrong").get("x"));
        assertTrue(e.credentialsRefused(), e.getMessage());
        assertFalse(e.getMessage().contains("wrong"), e.getMessage());
        e = assertThrows(S3Exception.class, () -> client(S3ClientTest.HTTP, "nobucket", CephRgwServer.SECRET_KEY)
                .get("x"));
        assertEquals("NoSuchBucket", e.code(), e.getMessage());
    }

    @Test
    void aConditionalPutOfAnExistingObjectIsRefusedByTheGateway() throws Exception {
        S3Client c = client(S3ClientTest.HTTP, "bkt", CephRgwServer.SECRET_KEY);
        byte[] first = "first".getBytes(StandardCharsets.UTF_8);
        assertTrue(c.put("cond/jtarget.lease", first, true), "created: nothing was there");
        assertFalse(c.put("cond/jtarget.lease", "second".getBytes(StandardCharsets.UTF_8), true), "412 from the gateway");
        assertArrayEquals(first, c.get("cond/jtarget.lease").data());
        assertArrayEquals(first, server.stored("bkt", "cond/jtarget.lease"));
    }

    /**
     * Another instance creates the lease after our look found none and before our PUT: the gateway refuses our
     * {@code If-None-Match: *} PUT with 412, and the open fails naming the other instance.
     */
    @Test
    void aLeaseCreatedBetweenOurLookAndOurPutIsRefusedByTheGateway() throws Exception {
        String other = "{\"owner\":\"someone-else\",\"host\":\"h2\",\"pid\":42}";
        S3Client otherInstance = client(S3ClientTest.HTTP, "bkt", CephRgwServer.SECRET_KEY);
        List<String> sent = new ArrayList<>();
        HttpClient racing = new Racing(S3ClientTest.HTTP, request -> {
            sent.add(request.method() + request.headers().firstValue("If-None-Match").map(v -> " If-None-Match: " + v)
                    .orElse(""));
            if (request.headers().firstValue("If-None-Match").isPresent()) {
                assertTrue(otherInstance.put("race/jtarget.lease", other.getBytes(StandardCharsets.UTF_8), true));
            }
        });
        S3Volume volume = new S3Volume(client(racing, "bkt", CephRgwServer.SECRET_KEY), "race/");
        S3Volume.LeaseHeld held = assertThrows(S3Volume.LeaseHeld.class,
                () -> volume.acquireLease("me", "{\"owner\":\"me\"}"));
        assertEquals(List.of("GET", "PUT If-None-Match: *", "GET"), sent);
        assertTrue(held.getMessage().contains("in use by another jtarget instance (lease race/jtarget.lease: " + other),
                held.getMessage());
        assertArrayEquals(other.getBytes(StandardCharsets.UTF_8), server.stored("bkt", "race/jtarget.lease"));
    }

    @Test
    void backstoreStoresItsObjectsInRadosReadsThemBackElsewhereAndRefusesASecondOpener() throws Exception {
        String name = "lun" + LUNS.incrementAndGet();
        Path home = Files.createDirectories(dir.resolve("home-" + name));
        Path otherHome = Files.createDirectories(dir.resolve("other-" + name));
        byte[] pattern = new byte[2 * MIB + 4096];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 13 + 5);
        }
        S3BackstoreProvider provider = new S3BackstoreProvider();
        try {
            Backstore b = open(provider, name, home);
            S3BackstoreTest.write(b, 2048 + 8, pattern, false); // objects 1 to 3, not aligned
            await(b.flush());
            S3Client c = client(S3ClientTest.HTTP, "bkt", CephRgwServer.SECRET_KEY);
            assertEquals(List.of(name + "/0000000000000001", name + "/0000000000000002", name + "/0000000000000003",
                    name + "/jtarget.json", name + "/jtarget.lease"), c.list(name + "/"));
            byte[] object2 = server.stored("bkt", name + "/0000000000000002");
            assertEquals(MIB, object2.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(pattern, MIB - 4096, 2 * MIB - 4096), object2);

            ExecutionException e = assertThrows(ExecutionException.class, () -> open(provider, name, otherHome));
            BackstoreException refused = assertInstanceOf(BackstoreException.class, e.getCause());
            assertEquals(SenseReason.LOGICAL_UNIT_NOT_READY, refused.reason());
            assertTrue(refused.getMessage().contains("in use by another jtarget instance"), refused.getMessage());
            await(b.close());
            assertFalse(c.exists(name + "/jtarget.lease"), "lease released at close");

            Backstore again = open(provider, name, otherHome); // no local cache there: from RADOS only
            assertArrayEquals(pattern, S3BackstoreTest.read(again, 2048 + 8, pattern.length / 512));
            await(again.close());
        } finally {
            provider.deactivate();
        }
    }

    static void await(java.util.concurrent.CompletionStage<?> s) throws Exception {
        s.toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** The backstore SPI contract against the gateway (a new prefix, so never written, per test). */
    @Nested
    class Contract extends BackstoreContract {
        private final S3BackstoreProvider provider = new S3BackstoreProvider();
        private BackstoreContext context;

        @Override
        protected Backstore open() throws Exception {
            String name = "contract" + LUNS.incrementAndGet();
            context = new BackstoreContext(name, params("bkt"), Files.createDirectories(dir.resolve(name)));
            return provider.open(context).toCompletableFuture().get(60, TimeUnit.SECONDS);
        }

        @Override
        protected void destroy() throws Exception {
            provider.destroy(context).toCompletableFuture().get(60, TimeUnit.SECONDS);
            provider.deactivate();
        }
    }

    /** An HttpClient that shows each request to {@code before} and then sends it with {@code http}. */
    private static final class Racing extends HttpClient {
        interface Before {
            void accept(HttpRequest request) throws IOException;
        }

        private final HttpClient http;
        private final Before before;

        Racing(HttpClient http, Before before) {
            this.http = http;
            this.before = before;
        }

        @Override
        public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
                throws IOException, InterruptedException {
            before.accept(request);
            return http.send(request, handler);
        }

        @Override
        public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
                                                                HttpResponse.BodyHandler<T> handler) {
            throw new UnsupportedOperationException("the S3 client sends synchronously");
        }

        @Override
        public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
                                                                HttpResponse.BodyHandler<T> handler,
                                                                HttpResponse.PushPromiseHandler<T> push) {
            throw new UnsupportedOperationException("the S3 client sends synchronously");
        }

        @Override
        public Optional<CookieHandler> cookieHandler() {
            return http.cookieHandler();
        }

        @Override
        public Optional<java.time.Duration> connectTimeout() {
            return http.connectTimeout();
        }

        @Override
        public Redirect followRedirects() {
            return http.followRedirects();
        }

        @Override
        public Optional<ProxySelector> proxy() {
            return http.proxy();
        }

        @Override
        public SSLContext sslContext() {
            return http.sslContext();
        }

        @Override
        public SSLParameters sslParameters() {
            return http.sslParameters();
        }

        @Override
        public Optional<Authenticator> authenticator() {
            return http.authenticator();
        }

        @Override
        public Version version() {
            return http.version();
        }

        @Override
        public Optional<Executor> executor() {
            return http.executor();
        }
    }
}
