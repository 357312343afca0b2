package org.jtarget.core.internal.registry;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens backstore objects that are not online: at most {@value #PARALLEL} at a time (a restore of
 * thousands of remote backstores connects to their servers in parallel, bounded), each within
 * {@value #TIMEOUT_SECONDS} s. An open that fails leaves the object FAILED with the reason and is retried
 * with backoff (1 s doubling to {@value #MAX_RETRY_SECONDS} s), so a backstore whose server is away comes
 * online by itself when the server returns. An open whose stage completes at once (file, memory) is
 * applied in the caller's thread, so a restore of local backstores is online when it returns.
 */
final class Opener {
    private static final Logger LOG = LoggerFactory.getLogger(Opener.class);
    static final int PARALLEL = 16;
    static final long TIMEOUT_SECONDS = 60;
    static final long MAX_RETRY_SECONDS = 60;

    private final ReentrantLock lock;
    private final ConcurrentSkipListMap<String, BackstoreObject> backstores;
    private final Map<String, BackstoreProvider> providers;
    private final Path dataDirectory;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "jtarget-backstore-open");
        t.setDaemon(true);
        return t;
    });
    /** Guarded by {@link #lock}: objects waiting for a slot, the number opening, the next retry delays. */
    private final ArrayDeque<BackstoreObject> queue = new ArrayDeque<>();
    private final Map<BackstoreObject, Long> retryMillis = new HashMap<>();
    private int opening;
    private boolean pumping;
    private volatile boolean stopped;

    Opener(ReentrantLock lock, ConcurrentSkipListMap<String, BackstoreObject> backstores,
           Map<String, BackstoreProvider> providers, Path dataDirectory) {
        this.lock = lock;
        this.backstores = backstores;
        this.providers = providers;
        this.dataDirectory = dataDirectory;
    }

    void stop() {
        stopped = true;
        timer.shutdownNow();
    }

    /** Asks for {@code obj} to be opened (once; a request for an object already queued or opening is a no-op). */
    void request(BackstoreObject obj) {
        lock.lock();
        try {
            if (stopped || obj.opening || queue.contains(obj)) {
                return;
            }
            queue.add(obj);
            pump();
        } finally {
            lock.unlock();
        }
    }

    /** Starts queued opens while there are free slots. Holds the lock. */
    private void pump() {
        if (pumping) { // an open that completed at once, inside start(): the loop below goes on
            return;
        }
        pumping = true;
        try {
            while (opening < PARALLEL && !queue.isEmpty()) {
                start(queue.poll());
            }
        } finally {
            pumping = false;
        }
    }

    /** Holds the lock. */
    private void start(BackstoreObject obj) {
        BackstoreProvider provider = providers.get(obj.type);
        if (stopped || backstores.get(obj.name) != obj || obj.state == BackstoreInfo.State.ONLINE || provider == null) {
            return;
        }
        long generation = obj.generation;
        obj.opening = true;
        opening++;
        CompletableFuture<Backstore> stage;
        try {
            Map<String, String> effective = Validation.validate(provider, obj.type, obj.parameters);
            stage = provider.open(new BackstoreContext(obj.name, effective, dataDirectory)).toCompletableFuture();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        if (!stage.isDone()) {
            if (obj.state != BackstoreInfo.State.FAILED) {
                obj.detail = "opening";
            }
            stage = stage.orTimeout(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        stage.whenComplete((bs, t) -> opened(obj, provider, generation, bs, t));
    }

    private void opened(BackstoreObject obj, BackstoreProvider provider, long generation, Backstore bs, Throwable t) {
        Backstore unused = null;
        lock.lock();
        try {
            obj.opening = false;
            opening--;
            boolean current = !stopped && backstores.get(obj.name) == obj && obj.generation == generation
                    && providers.get(obj.type) == provider && obj.state != BackstoreInfo.State.ONLINE;
            if (t == null && current) {
                obj.online(bs);
                retryMillis.remove(obj);
                LOG.debug("Backstore {} is online", obj.name);
            } else if (!current) {
                unused = bs; // a stale open (the provider or the object changed meanwhile): its result is not used
                if (!stopped && backstores.get(obj.name) == obj && obj.state != BackstoreInfo.State.ONLINE
                        && providers.get(obj.type) != null && !queue.contains(obj)) {
                    queue.add(obj); // a request made while this open ran was dropped: open again, now
                }
            } else {
                String why = reason(t);
                boolean news = obj.state != BackstoreInfo.State.FAILED || !why.equals(obj.detail);
                obj.state = BackstoreInfo.State.FAILED;
                obj.detail = why;
                long delay = retryMillis.getOrDefault(obj, 1000L);
                retryMillis.put(obj, Math.min(delay * 2, MAX_RETRY_SECONDS * 1000));
                if (news) { // the same reason again is not news: one line per change, not one per retry
                    LOG.error("Backstore {} could not be opened: {} (retried until it opens)", obj.name, why);
                } else {
                    LOG.debug("Backstore {} still cannot be opened: {} (next try in {} s)", obj.name, why,
                            delay / 1000);
                }
                if (!stopped) {
                    timer.schedule(() -> request(obj), delay, TimeUnit.MILLISECONDS);
                }
            }
            pump();
        } finally {
            lock.unlock();
        }
        if (unused != null) {
            closeLater(obj.name, unused);
        }
    }

    /** Forgets the retry state of a deleted object. Holds the lock. */
    void forget(BackstoreObject obj) {
        queue.remove(obj);
        retryMillis.remove(obj);
    }

    /** The user-facing reason of a failed open: the deepest message, without wrapper exception names. */
    static String reason(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof TimeoutException) {
            return "open timed out after " + TIMEOUT_SECONDS + " s";
        }
        if (c instanceof CancellationException) {
            return "open cancelled";
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    /** Waits for {@code stage} (open, destroy) at most {@code seconds}; failures come back as their reason. */
    static <T> T await(CompletionStage<T> stage, long seconds) throws Exception {
        CompletableFuture<T> f = stage.toCompletableFuture();
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new Exception(reason(e), e.getCause());
        } catch (TimeoutException e) {
            throw new Exception("timed out after " + seconds + " s", e);
        }
    }

    /**
     * Closes {@code bs} without waiting (from a completion thread, possibly the backstore's own event loop,
     * which a wait would block), logging a failure.
     */
    static void closeLater(String name, Backstore bs) {
        try {
            bs.close().whenComplete((v, t) -> {
                if (t != null) {
                    LOG.warn("Backstore {}: close failed: {}", name, reason(t));
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("Backstore {}: close failed: {}", name, e.toString());
        }
    }

    /** Closes {@code bs} and waits at most 30 s for it, logging a failure. */
    static void closeQuietly(String name, Backstore bs) {
        try {
            await(bs.close(), 30);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Backstore {}: close failed: {}", name, e.getMessage());
        }
    }

    /** For tests: waits until nothing is queued or opening (retries scheduled later are not waited for). */
    void awaitIdle() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (;;) {
            lock.lock();
            try {
                if (queue.isEmpty() && opening == 0) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("backstore opens still running after 30 s");
            }
            Thread.sleep(10);
        }
    }
}
