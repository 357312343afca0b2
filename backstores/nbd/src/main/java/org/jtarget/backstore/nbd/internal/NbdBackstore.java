package org.jtarget.backstore.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.backstore.ZeroWriting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backstore on an NBD export: SCSI commands become NBD commands on one or more connections (several only
 * when the server advertises NBD_FLAG_CAN_MULTI_CONN), offered only as the server offers them.
 *
 * <h2>Connection loss</h2>
 * A lost connection is re-established with exponential backoff ({@link #BACKOFF_MIN_MILLIS} to
 * {@link #BACKOFF_MAX_MILLIS}; back to the shortest only after a connection that had answered requests is lost,
 * so a server that accepts connections but garbles its replies is not reconnected to ten times a second).
 * Requests that were waiting for a reply on it are sent again on another or the re-established connection
 * (reads are harmless to repeat; a write is repeated whole, and is acknowledged only once the server replied);
 * one that finds no connection within {@code retryMillis} fails with LOGICAL UNIT
 * NOT READY. While no connection is up, new requests fail at once with LOGICAL UNIT NOT READY, which
 * initiators retry.
 */
final class NbdBackstore implements Backstore {
    static final long BACKOFF_MIN_MILLIS = 100;
    static final long BACKOFF_MAX_MILLIS = 5000;
    /** Largest TRIM, WRITE_ZEROES or BLOCK_STATUS length sent at once (the field has 32 bits). */
    private static final long MAX_EFFECT_BYTES = 1L << 30;
    private static final long CLOSE_GRACE_MILLIS = 5000;
    private static final Logger LOG = LoggerFactory.getLogger(NbdBackstore.class);

    private final String name;
    private final NbdUri uri;
    private final Transport transport;
    private final Export export;
    private final int blockSize;
    private final long blockCount;
    private final BackstoreLimits limits;
    private final int maxOutstanding;
    private final long retryMillis;
    private final List<Slot> slots = new ArrayList<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final Queue<Request<?>> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private CompletableFuture<Void> closedStage;
    private final Runnable onClose;
    private volatile String lastLoss = "not connected";
    private final LoopConnections loops;

    private static final class Slot {
        final AtomicReference<NbdConnection> connection = new AtomicReference<>();
        long backoffMillis = BACKOFF_MIN_MILLIS;
        boolean mismatchLogged;
    }

    /**
     * @param connections  the connections opened (one, or several when the server allows multi-conn)
     * @param loopLimit    at most this many more connections on the callers' event loops ({@link LoopConnections});
     *                     0 when the server does not allow several
     */
    NbdBackstore(String name, NbdUri uri, Transport transport, List<NbdConnection> connections, int loopLimit,
                 int blockSize, int maxInFlightPerConnection, long retryMillis, Runnable onClose) {
        this.name = name;
        this.onClose = onClose;
        this.uri = uri;
        this.transport = transport;
        this.export = connections.get(0).export();
        this.blockSize = blockSize;
        this.blockCount = export.size() / blockSize;
        this.maxOutstanding = maxInFlightPerConnection * connections.size();
        this.retryMillis = retryMillis;
        this.limits = limits(export, blockSize);
        this.loops = new LoopConnections(name, uri, transport, export, loopLimit, this::resend);
        for (NbdConnection c : connections) {
            Slot s = new Slot();
            slots.add(s);
            attach(s, c);
        }
    }

    static BackstoreLimits limits(Export export, int blockSize) {
        long max = export.maxRequestBytes() / blockSize * blockSize;
        long granularity = export.preferredBlock() > blockSize && export.preferredBlock() <= max ? export.preferredBlock() : 0;
        return new BackstoreLimits(Math.max(max, blockSize), 0, granularity, 0, granularity, 0);
    }

    Export export() {
        return export;
    }

    int connectionCount() {
        return slots.size();
    }

    /** Connections on the callers' event loops up now. */
    int loopConnected() {
        return loops.connected();
    }

    /** Connections of the backstore's own up now (those on the callers' loops not counted). */
    int connected() {
        int n = 0;
        for (Slot s : slots) {
            NbdConnection c = s.connection.get();
            n += c != null && c.active() ? 1 : 0;
        }
        return n;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    /** A server without NBD_FLAG_SEND_FLUSH gives no way to make writes durable later: WCE=0. */
    @Override
    public boolean writeCacheEnabled() {
        return export.has(Nbd.FLAG_SEND_FLUSH);
    }

    @Override
    public String productId() {
        return "jtarget-nbd";
    }

    @Override
    public BackstoreLimits limits() {
        return limits;
    }

    /** A request outside the export fails here, without reaching the server. */
    private BackstoreException outOfRange(long lba, long blocks) {
        if (lba >= 0 && blocks >= 0 && lba <= blockCount && blocks <= blockCount - lba) {
            return null;
        }
        return new BackstoreException(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, uri + ": LBA " + lba + " + "
                + blocks + " blocks (expected: within " + blockCount + " blocks)");
    }

    @Override
    public CompletionStage<ByteBuf> read(long lba, int blocks, ByteBufAllocator alloc) {
        BackstoreException range = outOfRange(lba, blocks);
        if (range != null) {
            return CompletableFuture.failedFuture(range);
        }
        int length = Math.multiplyExact(blocks, blockSize);
        int flags = export.structured() && export.has(Nbd.FLAG_SEND_DF) ? Nbd.CMD_FLAG_DF : 0;
        return submit(new Request<ByteBuf>(Nbd.CMD_READ, flags, lba * blockSize, length, null, alloc, blockSize, -1));
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        return read(lba, blocks, dst.alloc()).thenAccept(b -> {
            try {
                dst.writeBytes(b);
            } finally {
                b.release();
            }
        });
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        if (export.has(Nbd.FLAG_READ_ONLY)) {
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.WRITE_PROTECTED,
                    uri + ": the export is read-only"));
        }
        BackstoreException range = outOfRange(lba, src.readableBytes() / blockSize);
        if (range != null) {
            return CompletableFuture.failedFuture(range);
        }
        boolean fuaFlag = fua && export.has(Nbd.FLAG_SEND_FUA);
        CompletableFuture<Void> written = submit(new Request<>(Nbd.CMD_WRITE, fuaFlag ? Nbd.CMD_FLAG_FUA : 0,
                lba * blockSize, src.readableBytes(), src.retainedSlice(), null, blockSize, -1));
        if (fua && !fuaFlag && export.has(Nbd.FLAG_SEND_FLUSH)) {
            return written.thenCompose(v -> flush());
        }
        return written;
    }

    @Override
    public CompletionStage<Void> flush() {
        if (!export.has(Nbd.FLAG_SEND_FLUSH)) {
            return CompletableFuture.completedFuture(null); // WCE=0: nothing to make durable
        }
        return submit(new Request<>(Nbd.CMD_FLUSH, 0, 0, 0, null, null, blockSize, -1));
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        if (!export.has(Nbd.FLAG_SEND_TRIM)) {
            return Optional.empty();
        }
        return Optional.of(new ThinProvisioning() {
            @Override
            public CompletionStage<Void> unmap(long lba, long blocks) {
                // TRIM alone leaves the contents undefined (proto.md); WRITE_ZEROES without NO_HOLE may
                // deallocate too and guarantees the zeros the SPI promises
                return export.has(Nbd.FLAG_SEND_WRITE_ZEROES) ? ranges(Nbd.CMD_WRITE_ZEROES, 0, lba, blocks)
                        : ranges(Nbd.CMD_TRIM, 0, lba, blocks);
            }

            @Override
            public boolean readsZerosAfterUnmap() {
                return export.has(Nbd.FLAG_SEND_WRITE_ZEROES); // TRIM alone: LBPRZ 0
            }

            @Override
            public CompletionStage<Extent> extent(long lba) {
                return NbdBackstore.this.extent(lba);
            }
        });
    }

    @Override
    public Optional<ZeroWriting> zeroWriting() {
        if (!export.has(Nbd.FLAG_SEND_WRITE_ZEROES)) {
            return Optional.empty();
        }
        return Optional.of((lba, blocks, mayDeallocate, fua) -> {
            if (export.has(Nbd.FLAG_READ_ONLY)) {
                return CompletableFuture.failedFuture(new BackstoreException(SenseReason.WRITE_PROTECTED,
                        uri + ": the export is read-only"));
            }
            boolean fuaFlag = fua && export.has(Nbd.FLAG_SEND_FUA);
            int flags = (mayDeallocate ? 0 : Nbd.CMD_FLAG_NO_HOLE) | (fuaFlag ? Nbd.CMD_FLAG_FUA : 0);
            CompletionStage<Void> zeroed = ranges(Nbd.CMD_WRITE_ZEROES, flags, lba, blocks);
            return fua && !fuaFlag ? zeroed.thenCompose(v -> flush()) : zeroed;
        });
    }

    CompletionStage<Extent> extent(long lba) {
        BackstoreException range = outOfRange(lba, 1);
        if (range != null) {
            return CompletableFuture.failedFuture(range);
        }
        long rest = blockCount - lba;
        if (export.allocationContext() < 0) {
            return CompletableFuture.completedFuture(new Extent(rest, true)); // cannot tell: mapped
        }
        int length = (int) (Math.min(rest, MAX_EFFECT_BYTES / blockSize) * blockSize);
        return submit(new Request<Extent>(Nbd.CMD_BLOCK_STATUS, Nbd.CMD_FLAG_REQ_ONE, lba * blockSize, length, null,
                null, blockSize, export.allocationContext()))
                .thenApply(e -> e.blocks() > rest ? new Extent(rest, e.mapped()) : e);
    }

    /** TRIM or WRITE_ZEROES over a range, one piece of at most 1 GiB after the other. */
    private CompletionStage<Void> ranges(int type, int flags, long lba, long blocks) {
        BackstoreException range = outOfRange(lba, blocks);
        if (range != null) {
            return CompletableFuture.failedFuture(range);
        }
        long per = MAX_EFFECT_BYTES / blockSize;
        int length = (int) (Math.min(blocks, per) * blockSize);
        CompletableFuture<Void> first = submit(new Request<>(type, flags, lba * blockSize, length, null, null, blockSize, -1));
        if (blocks <= per) {
            return first;
        }
        return first.thenCompose(v -> ranges(type, flags, lba + per, blocks - per));
    }

    private <T> CompletableFuture<T> submit(Request<T> r) {
        if (closed) {
            r.fail(new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, uri + ": closed"));
            return r.future;
        }
        if (outstanding.incrementAndGet() > maxOutstanding) {
            outstanding.decrementAndGet();
            r.fail(BackstoreException.busy(uri + ": " + maxOutstanding + " requests in flight"));
            return r.future;
        }
        r.future.whenComplete((v, t) -> outstanding.decrementAndGet());
        NbdConnection c = loops.here();
        if (c == null) {
            c = pick();
        }
        if (c == null) {
            r.fail(notReady("reconnecting (" + lastLoss + ")"));
        } else {
            c.send(r);
        }
        return r.future;
    }

    private BackstoreException notReady(String why) {
        return new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, uri + ": " + why);
    }

    /** The live connection with the fewest unanswered requests, or null. */
    private NbdConnection pick() {
        NbdConnection best = null;
        for (Slot s : slots) {
            NbdConnection c = s.connection.get();
            if (c != null && c.active() && (best == null || c.load.get() < best.load.get())) {
                best = c;
            }
        }
        return best;
    }

    private void attach(Slot s, NbdConnection c) {
        c.onLost(this::lost);
        s.connection.set(c);
        if (!c.active()) {
            lost(c, List.of());
        }
    }

    /** From a connection's event loop: it is gone; its unanswered requests go elsewhere or wait. */
    private void lost(NbdConnection c, List<Request<?>> unanswered) {
        for (Slot s : slots) {
            if (s.connection.compareAndSet(c, null)) {
                Throwable cause = c.cause();
                lastLoss = "connection lost" + (cause == null ? "" : ": " + cause.getMessage());
                if (c.answered()) {
                    s.backoffMillis = BACKOFF_MIN_MILLIS; // it worked for a while: try again soon
                }
                if (!closed) {
                    LOG.warn("backstore {}: {}: {}; {} requests to resend; reconnecting", name, uri, lastLoss,
                            unanswered.size());
                    reconnect(s);
                }
            }
        }
        for (Request<?> r : unanswered) {
            resend(r);
        }
    }

    private void resend(Request<?> r) {
        if (r.future.isDone()) {
            return;
        }
        if (closed) {
            r.fail(notReady("closed"));
            return;
        }
        NbdConnection c = pick();
        if (c != null) {
            c.send(r);
            return;
        }
        long now = System.nanoTime();
        if (r.waitingSince == 0) {
            r.waitingSince = now; // the bound counts from the first loss, however often the server flaps
        }
        long left = Math.max(0, TimeUnit.MILLISECONDS.toNanos(retryMillis) - (now - r.waitingSince));
        if (transport.group().isShuttingDown()) {
            r.fail(notReady("the nbd backstore provider is stopping"));
            return;
        }
        r.waitTimer = transport.group().schedule(() -> {
            if (waiting.remove(r)) {
                r.fail(notReady("connection lost and not re-established within " + retryMillis + " ms ("
                        + lastLoss + ")"));
            }
        }, left, TimeUnit.NANOSECONDS);
        waiting.add(r);
        drain(); // a connection may have come back meanwhile
    }

    private void drain() {
        NbdConnection c;
        while ((c = pick()) != null) {
            Request<?> r = waiting.poll();
            if (r == null) {
                return;
            }
            var timer = r.waitTimer;
            if (timer != null) {
                timer.cancel(false);
            }
            if (!r.future.isDone()) {
                c.send(r);
            }
        }
    }

    private void reconnect(Slot s) {
        long delay = s.backoffMillis;
        s.backoffMillis = Math.min(delay * 2, BACKOFF_MAX_MILLIS);
        if (transport.group().isShuttingDown()) {
            return;
        }
        transport.group().schedule(() -> {
            if (closed) {
                return;
            }
            transport.connect(uri).whenComplete((c, t) -> {
                if (c != null && (closed || !c.export().sameAs(export))) {
                    lastLoss = "the server came back with another export (size " + c.export().size() + ")";
                    if (!closed && !s.mismatchLogged) {
                        s.mismatchLogged = true; // once per outage, not at every attempt
                        LOG.error("backstore {}: {} came back with another export (size {}, flags 0x{}; expected: size {},"
                                + " flags 0x{}); not using it", name, uri, c.export().size(),
                                Integer.toHexString(c.export().flags()), export.size(), Integer.toHexString(export.flags()));
                    }
                    c.disconnect();
                    if (!closed) {
                        reconnect(s);
                    }
                } else if (t != null) {
                    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                            ? t.getCause() : t;
                    lastLoss = "reconnecting: " + cause.getMessage();
                    LOG.debug("backstore {}: {}", name, lastLoss);
                    reconnect(s);
                } else {
                    s.mismatchLogged = false;
                    LOG.info("backstore {}: {} reconnected", name, uri);
                    attach(s, c);
                    drain();
                }
            });
        }, delay, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized CompletionStage<Void> close() {
        if (closedStage != null) {
            return closedStage; // the provider closes what is still open when it stops; the core may too
        }
        closed = true;
        Request<?> r;
        while ((r = waiting.poll()) != null) {
            r.fail(notReady("closed"));
        }
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (Slot s : slots) {
            NbdConnection c = s.connection.getAndSet(null);
            if (c != null && c.channel().isOpen()) {
                closing.add(c.close(CLOSE_GRACE_MILLIS));
            }
        }
        closing.addAll(loops.close(CLOSE_GRACE_MILLIS));
        closedStage = CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new));
        onClose.run();
        return closedStage;
    }
}
