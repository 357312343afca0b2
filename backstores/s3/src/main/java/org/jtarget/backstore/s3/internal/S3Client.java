package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small S3 client on the JDK's {@link HttpClient}: GET, PUT, DELETE, HEAD of objects and ListObjectsV2,
 * signed with {@link SigV4}, path-style or virtual-host addressing. Calls block their thread (the backstore
 * runs them on bounded pools of its own) and retry a failure worth retrying ({@link S3Exception#retryable()})
 * with exponential backoff, then throw: never an endless wait.
 */
final class S3Client {
    /** What one attempt waits for an answer; a hung server fails the request, it does not hang the LUN. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);
    /** No new try starts after this much time on one request: a hung server fails it within about a minute. */
    static final Duration RETRY_BUDGET = Duration.ofSeconds(45);
    /**
     * The most of one response body that is kept: the largest object (64 MiB) and room for a listing page. A server
     * that sends more (a wrong endpoint, a broken proxy) fails that request instead of filling the heap.
     */
    static final int MAX_BODY = (64 << 20) + (1 << 20);
    private static final Pattern CODE = Pattern.compile("<Code>([^<]*)</Code>");
    private static final Pattern MESSAGE = Pattern.compile("<Message>([^<]*)</Message>");
    private static final Pattern KEY = Pattern.compile("<Key>([^<]*)</Key>");
    private static final Pattern TOKEN = Pattern.compile("<NextContinuationToken>([^<]*)</NextContinuationToken>");

    /** SHA-256 of no bytes: the payload hash of requests without a body. */
    private static final String EMPTY_SHA256 = SigV4.sha256Hex(new byte[0]);

    /** The stored object and its ETag. */
    record Obj(byte[] data, String etag) {
    }

    private final HttpClient http;
    private final URI endpoint;
    private final String bucket;
    private final boolean pathStyle;
    private final SigV4 signer;
    private final int attempts;
    private final long backoffMillis;
    private final Duration timeout;

    /**
     * @param attempts      tries per request (at least 1)
     * @param backoffMillis the wait before the second try; doubled for each further one, at most 5 s
     */
    S3Client(HttpClient http, URI endpoint, String bucket, boolean pathStyle, SigV4 signer, int attempts,
             long backoffMillis) {
        this(http, endpoint, bucket, pathStyle, signer, attempts, backoffMillis, REQUEST_TIMEOUT);
    }

    /** @param timeout what one attempt waits for the response headers, and for each next part of the body */
    S3Client(HttpClient http, URI endpoint, String bucket, boolean pathStyle, SigV4 signer, int attempts,
             long backoffMillis, Duration timeout) {
        this.timeout = timeout;
        this.http = http;
        this.endpoint = endpoint;
        this.bucket = bucket;
        this.pathStyle = pathStyle;
        this.signer = signer;
        this.attempts = Math.max(1, attempts);
        this.backoffMillis = backoffMillis;
    }

    /** The host name requests go to: the endpoint's, or with virtual-host addressing BUCKET.endpoint's. */
    private String host() {
        return pathStyle ? endpoint.getHost() : bucket + "." + endpoint.getHost();
    }

    /** Whether the connection failed because the host name did not resolve. */
    private static boolean unresolved(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    /** Where objects live, for messages: {@code s3://bucket at http://host:port}. */
    String describe() {
        return "s3://" + bucket + " at " + endpoint;
    }

    /** The object, or null when it does not exist (404 NoSuchKey). */
    Obj get(String key) throws IOException {
        HttpResponse<byte[]> r = send("GET", key, Map.of(), null, Map.of(), 200, 404);
        if (r.statusCode() == 404) {
            S3Exception e = error("GET", key, r);
            if ("NoSuchBucket".equals(e.code())) {
                throw e;
            }
            return null;
        }
        return new Obj(r.body(), r.headers().firstValue("ETag").orElse(""));
    }

    /** Whether the object exists (HEAD). */
    boolean exists(String key) throws IOException {
        return send("HEAD", key, Map.of(), null, Map.of(), 200, 404).statusCode() == 200;
    }

    /**
     * Stores an object. With {@code ifNoneMatch} the server refuses to replace an existing object (412) where
     * it supports conditional writes; the answer then is false.
     */
    boolean put(String key, byte[] data, boolean ifNoneMatch) throws IOException {
        return put(key, ByteBuffer.wrap(data), ifNoneMatch);
    }

    /**
     * Stores the readable bytes of {@code data} (its position is not moved). They are sent from the buffer itself,
     * not copied: the caller leaves them unchanged until this returns.
     */
    boolean put(String key, ByteBuffer data, boolean ifNoneMatch) throws IOException {
        Map<String, String> extra = ifNoneMatch ? Map.of("If-None-Match", "*") : Map.of();
        return send("PUT", key, Map.of(), data, extra, 200, 412).statusCode() == 200;
    }

    void delete(String key) throws IOException {
        send("DELETE", key, Map.of(), null, Map.of(), 204, 200, 404);
    }

    /** Every key under the prefix (ListObjectsV2, page by page); only {@code destroy} lists. */
    List<String> list(String prefix) throws IOException {
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("list-type", "2");
            q.put("prefix", prefix);
            if (token != null) {
                q.put("continuation-token", token);
            }
            String body = new String(send("GET", "", q, null, Map.of(), 200).body(), StandardCharsets.UTF_8);
            Matcher m = KEY.matcher(body);
            while (m.find()) {
                keys.add(unescapeXml(m.group(1)));
            }
            Matcher t = TOKEN.matcher(body);
            token = t.find() ? unescapeXml(t.group(1)) : null;
        } while (token != null);
        return keys;
    }

    private HttpResponse<byte[]> send(String method, String key, Map<String, String> query, ByteBuffer body,
                                      Map<String, String> extraHeaders, int... expected) throws IOException {
        String hash = body == null ? EMPTY_SHA256 : SigV4.sha256Hex(body); // once per request, not per try
        S3Exception last = null;
        long giveUp = System.nanoTime() + RETRY_BUDGET.toNanos();
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                long backoff = Math.min(5000, backoffMillis << Math.min(attempt - 2, 16));
                if (System.nanoTime() + backoff * 1_000_000 > giveUp) {
                    break;
                }
                sleep(backoff);
            }
            try {
                HttpResponse<byte[]> r = once(method, key, query, body, hash, extraHeaders);
                for (int e : expected) {
                    if (r.statusCode() == e) {
                        return r;
                    }
                }
                last = error(method, key, r);
            } catch (HttpTimeoutException e) {
                String m = e.getMessage();
                last = new S3Exception(method + " " + where(key) + ": " + (m != null && m.startsWith(BoundedBody.SILENT)
                        ? m : "no answer within " + timeout.toSeconds() + " s"), e);
            } catch (ConnectException e) {
                last = unresolved(e)
                        ? new S3Exception(endpoint.getScheme() + "://" + host() + ": unknown host" + (pathStyle ? ""
                                : " (virtual-host addressing puts the bucket into the host name; path_style=true "
                                + "puts it into the path)"), e)
                        : new S3Exception(endpoint + ": connection refused", e);
            } catch (IOException e) {
                last = new S3Exception(method + " " + where(key) + ": " + e, e);
            }
            if (!last.retryable()) {
                throw last;
            }
        }
        throw last;
    }

    private HttpResponse<byte[]> once(String method, String key, Map<String, String> query, ByteBuffer body,
                                      String hash, Map<String, String> extraHeaders) throws IOException {
        String path = SigV4.encodePath((pathStyle ? "/" + bucket + "/" : "/") + key);
        String host = host();
        int port = endpoint.getPort();
        boolean defaultPort = port == -1 || port == ("https".equals(endpoint.getScheme()) ? 443 : 80);
        String authority = defaultPort ? host : host + ":" + port; // what HttpClient sends as Host
        String queryString = query.isEmpty() ? "" : "?" + SigV4.canonicalQuery(query);
        URI uri = URI.create(endpoint.getScheme() + "://" + authority + path + queryString);
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Map<String, String> signed = new LinkedHashMap<>();
        signed.put("host", authority);
        signed.put("x-amz-content-sha256", hash);
        signed.put("x-amz-date", now.format(SigV4.AMZ_DATE));
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("x-amz-content-sha256", hash)
                .header("x-amz-date", signed.get("x-amz-date"))
                .header("Authorization", signer.authorization(method, path, query, signed, hash, now));
        extraHeaders.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : publisher(body));
        try {
            // a HEAD answer declares the object's length but has no body
            return http.send(b.build(), info -> new BoundedBody(MAX_BODY,
                    "HEAD".equals(method) ? -1 : info.headers().firstValueAsLong("Content-Length").orElse(-1),
                    timeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new S3Exception(400, "Interrupted", method + " " + where(key) + ": interrupted");
        }
    }

    /**
     * The body straight from the caller's buffer, as one item: {@code BodyPublishers.ofByteArray} would copy it into
     * 16 KiB heap buffers first, and a direct buffer is written to the socket without the JDK's copy to a temporary
     * direct buffer. Each subscriber (one per try) gets its own view.
     */
    private static HttpRequest.BodyPublisher publisher(ByteBuffer body) {
        if (!body.hasRemaining()) {
            return HttpRequest.BodyPublishers.ofByteArray(new byte[0]);
        }
        return HttpRequest.BodyPublishers.fromPublisher(subscriber -> {
            ByteBuffer view = body.duplicate();
            AtomicBoolean done = new AtomicBoolean();
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    if (!done.compareAndSet(false, true)) {
                        return;
                    }
                    if (n <= 0) {
                        subscriber.onError(new IllegalArgumentException("request: " + n + " (expected: > 0)"));
                        return;
                    }
                    subscriber.onNext(view);
                    subscriber.onComplete();
                }

                @Override
                public void cancel() {
                    done.set(true);
                }
            });
        }, body.remaining());
    }

    private S3Exception error(String method, String key, HttpResponse<byte[]> r) {
        String body = r.body() == null ? "" : new String(r.body(), StandardCharsets.UTF_8);
        Matcher c = CODE.matcher(body);
        String code = c.find() ? c.group(1) : "";
        Matcher m = MESSAGE.matcher(body);
        String message = m.find() ? m.group(1) : "";
        String text = method + " " + where(key) + ": HTTP " + r.statusCode()
                + (code.isEmpty() ? "" : " " + code) + (message.isEmpty() ? "" : " (" + message + ")");
        return new S3Exception(r.statusCode(), code, text);
    }

    private String where(String key) {
        return "s3://" + bucket + "/" + key;
    }

    private static void sleep(long millis) throws S3Exception {
        try {
            Thread.sleep(millis); // backoff between retries, on the backstore's own pool thread
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new S3Exception(400, "Interrupted", "interrupted during retry backoff");
        }
    }

    private static String unescapeXml(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'")
                .replace("&amp;", "&");
    }

    @Override
    public String toString() {
        return describe() + " " + signer + " path_style=" + pathStyle + " attempts=" + attempts;
    }
}
