package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * A response body as one array, at most {@code max} bytes: a longer one (declared, or as it arrives) is
 * cancelled, which closes the connection, and the request fails with an IOException that says so. The request's
 * timeout covers only the wait for the response headers: a body that stops arriving for {@code idle} is
 * cancelled the same way, with an {@link HttpTimeoutException}.
 */
final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
    /** How the message of a body given up for silence begins ({@code HttpClient.send} keeps only the message). */
    static final String SILENT = "response body: nothing for ";
    private final int max;
    private final long declared;
    private final Duration idle;
    private volatile long progress; // bytes received when the idle check last saw some arrive
    private volatile long progressNanos = System.nanoTime(); // and when that was
    private volatile CompletableFuture<Void> timer;
    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final List<ByteBuffer> parts = new ArrayList<>(); // guarded by this, as received: the idle check
    private long received;                                     // reads it and may finish the body from another thread
    private Flow.Subscription subscription;

    BoundedBody(int max, long declared, Duration idle) {
        this.max = max;
        this.declared = declared;
        this.idle = idle;
    }

    /**
     * Looks again after half of {@code idle}. The wait is a {@code completeOnTimeout}, whose scheduled task is removed
     * when {@link #finish} completes it early: nothing keeps a finished body (and so its bytes) reachable.
     */
    private void watch() {
        CompletableFuture<Void> t = new CompletableFuture<>();
        timer = t;
        t.completeOnTimeout(null, Math.max(1, idle.toMillis() / 2), TimeUnit.MILLISECONDS).thenRun(this::look);
        if (body.isDone()) {
            t.complete(null); // finished meanwhile, after finish() completed the previous wait
        }
    }

    /** A body that received nothing for {@code idle} (give or take half of it) is given up. */
    private void look() {
        if (body.isDone()) {
            return;
        }
        long now;
        synchronized (this) {
            now = received;
        }
        long nanos = System.nanoTime();
        if (now != progress) {
            progress = now;
            progressNanos = nanos;
        } else if (nanos - progressNanos >= idle.toNanos()) {
            finish(new HttpTimeoutException(SILENT + idle.toMillis() + " ms after " + now
                    + " bytes"));
            subscription.cancel();
            return;
        }
        watch();
    }

    /** Completes the body with {@code result} (a byte array or a Throwable) and stops the idle check. */
    private synchronized void finish(Object result) {
        parts.clear();
        if (result instanceof Throwable t) {
            body.completeExceptionally(t);
        } else {
            body.complete((byte[]) result);
        }
        CompletableFuture<Void> t = timer;
        if (t != null) {
            t.complete(null);
        }
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (declared > max) {
            tooLong("a declared length of " + declared);
            return;
        }
        watch();
        s.request(Long.MAX_VALUE);
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> items) {
        if (body.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            received += b.remaining();
            parts.add(b);
        }
        if (received > max) {
            tooLong("more than " + max);
        }
    }

    private void tooLong(String length) {
        finish(new IOException("response body of " + length + " bytes (expected: at most " + max + ")"));
        subscription.cancel();
    }

    @Override
    public void onError(Throwable t) {
        finish(t);
    }

    @Override
    public synchronized void onComplete() {
        if (body.isDone()) {
            return;
        }
        byte[] all = new byte[(int) received];
        int at = 0;
        for (ByteBuffer b : parts) {
            int n = b.remaining();
            b.get(all, at, n);
            at += n;
        }
        finish(all);
    }
}
