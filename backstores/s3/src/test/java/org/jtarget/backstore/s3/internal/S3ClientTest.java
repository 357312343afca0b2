package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real S3 server (S3Proxy with authentication on): what it stores is checked on disk. */
class S3ClientTest {
    @TempDir
    static Path dir;
    static S3ProxyServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        server = S3ProxyServer.start(dir);
        server.bucket("bkt");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static S3Client client(String bucket, String secret) {
        return new S3Client(HTTP, URI.create(server.endpoint()), bucket, true,
                new SigV4(S3ProxyServer.ACCESS_KEY, secret, "us-east-1"), 2, 10);
    }

    @Test
    void putGetDeleteRoundTripStoresTheObjectAsAFile() throws Exception {
        roundTrip(client("bkt", S3ProxyServer.SECRET_KEY), server.basedir().resolve("bkt"), "lun a/");
    }

    /** What the server keeps for a key, read from its storage, not through S3; null if nothing. */
    interface Stored {
        byte[] get(String key) throws Exception;
    }

    /** PUT, GET, HEAD, list and DELETE of one object under {@code prefix}, checked in the bucket's folder too. */
    static void roundTrip(S3Client c, Path bucketDir, String prefix) throws Exception {
        roundTrip(c, key -> Files.exists(bucketDir.resolve(key)) ? Files.readAllBytes(bucketDir.resolve(key)) : null,
                prefix);
    }

    /** PUT, GET, HEAD, list and DELETE of one object under {@code prefix}, checked in the server's storage too. */
    static void roundTrip(S3Client c, Stored stored, String prefix) throws Exception {
        String key = prefix + "0000000000000001";
        byte[] data = "hello s3 \u00e9".getBytes(StandardCharsets.UTF_8);
        assertTrue(c.put(key, data, false));
        assertArrayEquals(data, stored.get(key));
        assertArrayEquals(data, c.get(key).data());
        assertTrue(c.exists(key));
        assertEquals(List.of(key), c.list(prefix));
        c.delete(key);
        assertNull(c.get(key));
        assertFalse(c.exists(key));
        assertNull(stored.get(key));
        c.delete(prefix + "never-written"); // deleting what is not there is no error
    }

    @Test
    void putFromADirectBufferSendsItsReadableBytesAndLeavesItAsItWas() throws Exception {
        S3Client c = client("bkt", S3ProxyServer.SECRET_KEY);
        byte[] data = new byte[300_000]; // more than one socket write
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length + 10);
        direct.position(10);
        direct.put(data).position(10);
        assertTrue(c.put("direct/0000000000000001", direct, false));
        assertEquals(10, direct.position());
        assertEquals(data.length, direct.remaining());
        assertArrayEquals(data, Files.readAllBytes(server.basedir().resolve("bkt/direct/0000000000000001")));
        assertArrayEquals(data, c.get("direct/0000000000000001").data());
    }

    @Test
    void wrongSecretIsRefusedAsCredentials() {
        S3Exception e = assertThrows(S3Exception.class, () -> client("bkt", "wrong").get("x"));
        assertTrue(e.credentialsRefused(), e.getMessage());
        assertFalse(e.getMessage().contains("wrong"), e.getMessage());
    }

    @Test
    void missingBucketNamesTheCode() {
        S3Exception e = assertThrows(S3Exception.class, () -> client("nobucket", S3ProxyServer.SECRET_KEY).get("x"));
        assertEquals("NoSuchBucket", e.code(), e.getMessage());
    }

    /**
     * A port that refuses connections for as long as the socket is open: bound, not listening. A port freed after
     * use could be taken by another process at once, or given to a client as its own source port.
     */
    static java.net.Socket refusingPort() throws IOException {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.1"), 0));
        return s;
    }

    @Test
    void unreachableServerFailsAfterRetriesWithConnectionRefused() throws Exception {
        try (java.net.Socket reserved = refusingPort()) {
            int port = reserved.getLocalPort();
            S3Client c = new S3Client(HTTP, URI.create("http://127.0.0.1:" + port), "bkt", true,
                    new SigV4("a", "b", "us-east-1"), 3, 1);
            S3Exception e = assertThrows(S3Exception.class, () -> c.get("x"));
            assertEquals("http://127.0.0.1:" + port + ": connection refused", e.getMessage());
        }
    }

    /** A server answering 503 SlowDown {@code failures} times, then 200: the client retries with backoff. */
    @Test
    void slowDownIsRetriedThenReportedInsteadOfHanging() throws Exception {
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger(2);
        com.sun.net.httpserver.HttpServer slow = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        slow.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            boolean fail = failures.getAndDecrement() > 0;
            byte[] body = (fail ? "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                    : "ok").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(fail ? 503 : 200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        slow.start();
        try {
            S3Client c = new S3Client(HTTP, URI.create("http://127.0.0.1:" + slow.getAddress().getPort()), "bkt", true,
                    new SigV4("a", "b", "us-east-1"), 3, 1);
            assertArrayEquals("ok".getBytes(StandardCharsets.UTF_8), c.get("k").data());
            assertEquals(3, requests.get(), "two 503 answers, then the third try succeeded");
            failures.set(1000);
            S3Exception e = assertThrows(S3Exception.class, () -> c.put("k", new byte[] {1}, false));
            assertEquals(6, requests.get(), "three tries, then the error");
            assertEquals(503, e.status());
            assertTrue(e.getMessage().endsWith("HTTP 503 SlowDown (Please reduce your request rate.)"), e.getMessage());
        } finally {
            slow.stop(0);
        }
    }
    /**
     * A server that answers a GET with more than any object can be (a wrong endpoint, a broken proxy): the request
     * fails with what happened instead of buffering it all, whether the length is declared or the body streams.
     */
    @Test
    void anEndlessBodyFailsTheRequestInsteadOfFillingTheHeap() throws Exception {
        java.util.concurrent.atomic.AtomicLong streamed = new java.util.concurrent.atomic.AtomicLong();
        com.sun.net.httpserver.HttpServer endless = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        endless.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            boolean declared = exchange.getRequestURI().getPath().endsWith("/declared");
            exchange.sendResponseHeaders(200, declared ? 1L << 40 : 0); // 0: chunked, no length
            byte[] mib = new byte[1 << 20];
            try (java.io.OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 256; i++) { // at most 256 MiB, whatever the client does
                    out.write(mib);
                    streamed.addAndGet(mib.length);
                }
            } catch (IOException clientGone) {
                // the client closed the connection: what the test expects
            }
        });
        endless.start();
        try {
            S3Client c = new S3Client(HTTP, URI.create("http://127.0.0.1:" + endless.getAddress().getPort()), "bkt",
                    true, new SigV4("a", "b", "us-east-1"), 1, 1);
            S3Exception e = assertThrows(S3Exception.class, () -> c.get("declared"));
            assertTrue(e.getMessage().endsWith("response body of a declared length of 1099511627776 bytes (expected: at most "
                    + S3Client.MAX_BODY + ")"), e.getMessage());
            assertTrue(e.getMessage().startsWith("GET s3://bkt/declared: "), e.getMessage());
            streamed.set(0);
            e = assertThrows(S3Exception.class, () -> c.get("streamed"));
            assertTrue(e.getMessage().endsWith("response body of more than " + S3Client.MAX_BODY + " bytes (expected: at most "
                    + S3Client.MAX_BODY + ")"), e.getMessage());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long before;
            do { // the server's writes stop once the client closed the connection
                before = streamed.get();
                Thread.sleep(300); // polling a condition with a deadline
            } while (streamed.get() != before && System.nanoTime() < deadline);
            assertTrue(streamed.get() < 128L << 20, "the server could send " + streamed.get() + " bytes: the client kept reading");
        } finally {
            endless.stop(0);
        }
    }

    /**
     * The request's timeout covers the wait for the headers only (java.net.http): a server that stops sending in the
     * middle of a body is given up after the same time without progress, and the request retried, then failed.
     */
    @Test
    void aBodyThatStopsArrivingFailsTheRequestInsteadOfHanging() throws Exception {
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        com.sun.net.httpserver.HttpServer stalling = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        stalling.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        stalling.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 1 << 20);
            try {
                exchange.getResponseBody().write(new byte[1000]);
                exchange.getResponseBody().flush();
                stop.await(60, TimeUnit.SECONDS); // and then nothing more
            } catch (IOException | InterruptedException e) {
                // the client gave up or the test ended
            }
            exchange.close();
        });
        stalling.start();
        try {
            S3Client c = new S3Client(HTTP, URI.create("http://127.0.0.1:" + stalling.getAddress().getPort()), "bkt",
                    true, new SigV4("a", "b", "us-east-1"), 2, 1, java.time.Duration.ofMillis(1500));
            long start = System.nanoTime();
            S3Exception e = assertThrows(S3Exception.class, () -> c.get("k"));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals("GET s3://bkt/k: response body: nothing for 1500 ms after 1000 bytes", e.getMessage());
            assertEquals(2, requests.get(), "tried twice");
            assertTrue(millis >= 3000 && millis < 15_000, "failed after " + millis + " ms");
        } finally {
            stop.countDown();
            stalling.stop(0);
        }
    }
}
