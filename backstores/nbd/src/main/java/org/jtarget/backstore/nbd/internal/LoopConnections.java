package org.jtarget.backstore.nbd.internal;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NBD connections on the event loops of the backstore's callers. The iSCSI fabric calls read, write and flush
 * on the Netty event loop of the initiator's connection; a request sent on an NBD connection registered on
 * that same loop is written, answered and completed (the iSCSI response written) on one thread, with no task
 * handed to another thread and no wake-up of one: the cost per command is then the syscalls, not the
 * scheduler. Such a connection is opened on a loop's first call (that call and the calls until it is up use
 * the backstore's own connections), at most {@code limit} of them, and only when the server allows several
 * connections (NBD_FLAG_CAN_MULTI_CONN, which also makes a FLUSH on any connection cover the writes completed
 * on all of them). A connection lost, or one that cannot be opened, is tried again on a later call after a
 * backoff; its unanswered requests go to {@code resend} (the backstore's own connections, or the wait for
 * one). Everything about one loop's connection happens on that loop, but {@link #close()}.
 */
final class LoopConnections {
    private static final Logger LOG = LoggerFactory.getLogger(LoopConnections.class);

    private final String name;
    private final NbdUri uri;
    private final Transport transport;
    private final Export export;
    private final int limit;
    private final Consumer<Request<?>> resend;
    private final ConcurrentHashMap<EventExecutor, Local> locals = new ConcurrentHashMap<>();
    private final AtomicInteger opened = new AtomicInteger();
    private volatile boolean closed;

    /** One caller loop: its connection (null while none is up) and when to try again. */
    private static final class Local {
        final EventLoop loop;
        /** The channel kind for the loop, or null: no connection here (not usable, or over the limit). */
        final Boolean epoll;
        volatile NbdConnection connection;
        boolean connecting;
        long notBeforeNanos;
        long backoffMillis = NbdBackstore.BACKOFF_MIN_MILLIS;

        Local(EventLoop loop, Boolean epoll) {
            this.loop = loop;
            this.epoll = epoll;
        }
    }

    /**
     * @param limit at most this many loops get a connection of their own; 0: none (the server does not allow
     *              several connections)
     */
    LoopConnections(String name, NbdUri uri, Transport transport, Export export, int limit, Consumer<Request<?>> resend) {
        this.name = name;
        this.uri = uri;
        this.transport = transport;
        this.export = export;
        this.limit = limit;
        this.resend = resend;
    }

    /** Connections up now. */
    int connected() {
        int n = 0;
        for (Local l : locals.values()) {
            NbdConnection c = l.connection;
            n += c != null && c.active() ? 1 : 0;
        }
        return n;
    }

    /**
     * The connection of the calling thread's event loop when it is up, else null (and one is opened when
     * none is on its way and the backoff allows).
     */
    NbdConnection here() {
        if (limit == 0 || closed) {
            return null;
        }
        EventExecutor executor = ThreadExecutorMap.currentExecutor();
        if (executor == null) {
            return null;
        }
        Local l = locals.get(executor);
        if (l == null) {
            l = add(executor);
            if (l == null) {
                return null;
            }
        }
        NbdConnection c = l.connection;
        if (c != null) {
            return c.active() ? c : null;
        }
        if (l.epoll != null && !l.connecting && System.nanoTime() - l.notBeforeNanos >= 0) {
            open(l);
        }
        return null;
    }

    /** The first call from {@code executor}: remembers whether it gets a connection (forgotten when it ends). */
    private Local add(EventExecutor executor) {
        Boolean epoll = transport.epollFor(executor);
        if (epoll == null && !(executor instanceof EventLoop)) {
            return null;
        }
        if (epoll != null && opened.incrementAndGet() > limit) {
            opened.decrementAndGet();
            epoll = null;
        }
        Local l = new Local((EventLoop) executor, epoll);
        locals.put(executor, l);
        Boolean counted = epoll;
        executor.terminationFuture().addListener(f -> {
            if (locals.remove(executor, l) && counted != null) {
                opened.decrementAndGet();
            }
        });
        return l;
    }

    private void open(Local l) {
        l.connecting = true;
        transport.connect(uri, l.loop, l.epoll).whenComplete((c, t) -> {
            if (l.loop.inEventLoop()) {
                opened(l, c, t);
                return;
            }
            try {
                l.loop.execute(() -> opened(l, c, t));
            } catch (RejectedExecutionException e) { // the loop ended meanwhile
                if (c != null) {
                    c.disconnect();
                }
            }
        });
    }

    /** On the loop: the connection opened for it, or why not. */
    private void opened(Local l, NbdConnection c, Throwable t) {
        l.connecting = false;
        if (t != null) {
            Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
            LOG.debug("backstore {}: no connection on event loop {}: {}", name, Thread.currentThread().getName(),
                    cause.getMessage());
            backoff(l);
        } else if (closed || l.loop.isShuttingDown()) {
            c.disconnect();
        } else if (!c.export().sameAs(export)) {
            LOG.debug("backstore {}: {} answered with another export on event loop {}; not using it", name, uri,
                    Thread.currentThread().getName());
            c.disconnect();
            backoff(l);
        } else {
            c.onLost(this::lost);
            l.connection = c;
            if (!c.active()) {
                lost(c, List.of());
            }
        }
    }

    private static void backoff(Local l) {
        l.notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(l.backoffMillis);
        l.backoffMillis = Math.min(l.backoffMillis * 2, NbdBackstore.BACKOFF_MAX_MILLIS);
    }

    /** On the connection's loop: it is gone; its unanswered requests go to the backstore's connections. */
    private void lost(NbdConnection c, List<Request<?>> unanswered) {
        Local l = locals.get(c.channel().eventLoop());
        if (l != null && l.connection == c) {
            l.connection = null;
            if (c.answered()) {
                l.backoffMillis = NbdBackstore.BACKOFF_MIN_MILLIS; // it worked for a while: try again soon
            }
            backoff(l);
            if (!closed && !l.loop.isShuttingDown()) {
                Throwable cause = c.cause();
                LOG.info("backstore {}: {}: connection on event loop {} lost{}; {} requests to resend", name, uri,
                        Thread.currentThread().getName(), cause == null ? "" : ": " + cause.getMessage(), unanswered.size());
            }
        }
        for (Request<?> r : unanswered) {
            resend.accept(r);
        }
    }

    /**
     * Stops opening connections and ends those up (NBD_CMD_DISC, replies still on the wire within
     * {@code graceMillis}); the stages complete when each is closed.
     */
    List<CompletableFuture<Void>> close(long graceMillis) {
        closed = true;
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (Local l : locals.values()) {
            NbdConnection c = l.connection;
            if (c != null && c.channel().isOpen()) {
                closing.add(c.close(graceMillis));
            }
        }
        return closing;
    }
}
