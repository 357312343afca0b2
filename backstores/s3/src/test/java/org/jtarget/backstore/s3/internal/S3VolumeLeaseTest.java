package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The lease where the server honours {@code If-None-Match: *} on PUT (AWS S3, MinIO), which S3Proxy 2.6.0 does
 * not: a server that answers the conditional PUT with 412 (another instance created the lease between our GET
 * and our PUT) makes the open fail, naming the holder.
 */
class S3VolumeLeaseTest {
    @Test
    void aLeaseCreatedBetweenOurLookAndOurPutIsRefusedWith412() throws Exception {
        String other = "{\"owner\":\"someone-else\",\"host\":\"h2\",\"pid\":42}";
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer s3 = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s3.createContext("/", exchange -> {
            String method = exchange.getRequestMethod();
            String ifNoneMatch = exchange.getRequestHeaders().getFirst("If-None-Match");
            requests.add(method + (ifNoneMatch == null ? "" : " If-None-Match: " + ifNoneMatch));
            exchange.getRequestBody().readAllBytes();
            byte[] body;
            int status;
            if (method.equals("PUT")) {
                status = 412;
                body = "<Error><Code>PreconditionFailed</Code></Error>".getBytes(StandardCharsets.UTF_8);
            } else if (requests.size() == 1) {
                status = 404;
                body = "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8);
            } else {
                status = 200;
                body = other.getBytes(StandardCharsets.UTF_8);
            }
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        s3.start();
        try {
            S3Client client = new S3Client(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(), URI.create("http://127.0.0.1:"
                    + s3.getAddress().getPort()), "bkt", true, new SigV4("a", "b", "us-east-1"), 1, 1);
            S3Volume volume = new S3Volume(client, "vol/");
            S3Volume.LeaseHeld held = assertThrows(S3Volume.LeaseHeld.class,
                    () -> volume.acquireLease("me", "{\"owner\":\"me\"}"));
            assertEquals(List.of("GET", "PUT If-None-Match: *", "GET"), requests);
            assertTrue(held.getMessage().contains("in use by another jtarget instance (lease vol/jtarget.lease: " + other
                    + "); if that instance is gone for good, delete the object vol/jtarget.lease"), held.getMessage());
        } finally {
            s3.stop(0);
        }
    }
}
