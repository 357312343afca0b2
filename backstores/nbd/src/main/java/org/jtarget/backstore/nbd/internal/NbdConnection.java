package org.jtarget.backstore.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One NBD connection in the transmission phase: sends requests with handles of its own and matches simple and
 * structured replies to them (proto.md "Transmission"). Many requests are in flight at once; the table of
 * requests belongs to the channel's event loop. When the connection is lost, the requests still waiting for
 * their reply are handed to {@code lost} (to be sent again or failed), never dropped.
 */
final class NbdConnection extends ByteToMessageDecoder {
    private final Export export;
    private final String name;
    private final long replyTimeoutNanos;
    private long lastReplyNanos;
    private io.netty.util.concurrent.ScheduledFuture<?> watchdog;
    private final Map<Long, Request<?>> inFlight = new HashMap<>();
    /** Requests given to this connection and not yet answered (any thread reads it to balance load). */
    final AtomicInteger load = new AtomicInteger();
    private Channel channel;
    private long nextHandle = 1;
    private boolean flushPending; // event loop only
    private volatile BiConsumer<NbdConnection, List<Request<?>>> lost;
    private volatile Throwable cause;
    /** Whether a well-formed reply came: only such a connection resets the reconnection backoff when lost. */
    private volatile boolean answered;

    /**
     * @param replyTimeoutMillis how long requests may wait without any reply arriving before the server is
     *                           taken as hung and the connection closed (its requests are then resent)
     */
    NbdConnection(Export export, String name, long replyTimeoutMillis) {
        this.export = export;
        this.name = name;
        this.replyTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(replyTimeoutMillis);
    }

    Export export() {
        return export;
    }

    Channel channel() {
        return channel;
    }

    boolean active() {
        return channel != null && channel.isActive();
    }

    /** Who takes the unanswered requests when the connection is lost; set before the first send. */
    void onLost(BiConsumer<NbdConnection, List<Request<?>>> handler) {
        this.lost = handler;
    }

    /**
     * Whether the server answered a request on this connection. One that never did (it garbles every reply, or
     * closes at once) is no sign of a healthy server: the next reconnection waits longer, not the shortest time.
     */
    boolean answered() {
        return answered;
    }

    /** Why the connection was lost (for messages), or null. */
    Throwable cause() {
        return cause;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        lastReplyNanos = System.nanoTime();
        long period = Math.max(replyTimeoutNanos / 4, 1);
        watchdog = ctx.executor().scheduleAtFixedRate(() -> {
            if (!inFlight.isEmpty() && System.nanoTime() - lastReplyNanos > replyTimeoutNanos && cause == null) {
                cause = new java.io.IOException("no reply for " + replyTimeoutNanos / 1_000_000 + " ms");
                ctx.close();
            }
        }, period, period, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        lastReplyNanos = System.nanoTime();
        super.channelRead(ctx, msg);
    }

    /**
     * Sends {@code r} from the event loop: at once when called on it (no hand-off between threads), else as a
     * task there. A connection found closed hands it on as lost.
     */
    void send(Request<?> r) {
        load.incrementAndGet();
        if (channel.eventLoop().inEventLoop()) {
            write(r);
        } else {
            channel.eventLoop().execute(() -> write(r));
        }
    }

    private void write(Request<?> r) {
        if (r.future.isDone()) { // cancelled while queued: nothing to send
            load.decrementAndGet();
            return;
        }
        if (!channel.isActive()) {
            load.decrementAndGet();
            BiConsumer<NbdConnection, List<Request<?>>> handler = lost;
            handler.accept(this, List.of(r));
            return;
        }
        long handle = nextHandle++;
        ByteBuf header = channel.alloc().buffer(Nbd.REQUEST_HEADER);
        header.writeInt(Nbd.REQUEST_MAGIC).writeShort(r.commandFlags).writeShort(r.type).writeLong(handle)
                .writeLong(r.offset).writeInt(r.length);
        ByteBuf data = null;
        if (r.hasData()) {
            data = r.dataForSend();
            if (data == null) { // completed (cancelled) since the check above
                header.release();
                load.decrementAndGet();
                return;
            }
        }
        if (inFlight.isEmpty()) {
            lastReplyNanos = System.nanoTime(); // the wait for a reply starts now
        }
        inFlight.put(handle, r);
        // header and data as two buffers of one gathering write: no composite buffer per request
        channel.write(header, channel.voidPromise());
        if (data != null) {
            channel.write(data, channel.voidPromise());
        }
        flushSoon();
    }

    /**
     * One flush for every request written on the event loop in a burst, after the last of them (tasks run in
     * order, after the reads of the loop's turn): a single writev and one wake-up of the server instead of one
     * per request, also for the requests of all the commands that one read of the iSCSI connection brought.
     */
    private void flushSoon() {
        if (!flushPending) {
            flushPending = true;
            channel.eventLoop().execute(() -> {
                flushPending = false;
                channel.flush();
            });
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 4 && ctx.channel().isActive()) {
            int start = in.readerIndex();
            int magic = in.getInt(start);
            if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
                if (in.readableBytes() < 16) {
                    return;
                }
                int error = in.getInt(start + 4);
                long handle = in.getLong(start + 8);
                Request<?> r = inFlight.get(handle);
                if (r == null) {
                    protocolError(ctx, "simple reply for unknown handle " + handle);
                    return;
                }
                int payload = error == 0 ? r.simplePayload() : 0;
                if (in.readableBytes() < 16 + payload) {
                    return;
                }
                in.skipBytes(16);
                inFlight.remove(handle);
                load.decrementAndGet();
                if (!answered) {
                    answered = true; // once per connection, not a volatile write per reply
                }
                r.simpleReply(error, payload > 0 ? in.readRetainedSlice(payload) : null);
            } else if (magic == Nbd.STRUCTURED_REPLY_MAGIC) {
                if (in.readableBytes() < 20) {
                    return;
                }
                int flags = in.getUnsignedShort(start + 4);
                int type = in.getUnsignedShort(start + 6);
                long handle = in.getLong(start + 8);
                long length = in.getUnsignedInt(start + 16);
                // bounded by what we ask for, not by the server's own limit (up to 4 GiB)
                if (length > export.maxRequestBytes() + (1 << 16)) {
                    protocolError(ctx, "structured reply chunk of " + length + " bytes (expected: at most "
                            + export.maxRequestBytes() + " and a header)");
                    return;
                }
                if (in.readableBytes() < 20 + length) {
                    return;
                }
                Request<?> r = inFlight.get(handle);
                if (r == null) {
                    protocolError(ctx, "structured reply for unknown handle " + handle);
                    return;
                }
                in.skipBytes(20);
                ByteBuf chunk = in.readSlice((int) length);
                r.chunk(type, chunk);
                if ((flags & Nbd.REPLY_FLAG_DONE) != 0) {
                    inFlight.remove(handle);
                    load.decrementAndGet();
                    if (!answered) {
                        answered = true;
                    }
                    r.done();
                }
            } else {
                protocolError(ctx, "bad reply magic 0x" + Integer.toHexString(magic));
                return;
            }
        }
    }

    private void protocolError(ChannelHandlerContext ctx, String what) {
        cause = new java.io.IOException("protocol error from " + name + ": " + what);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
        if (cause == null) {
            cause = t;
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        List<Request<?>> unanswered = new ArrayList<>(inFlight.values());
        inFlight.clear();
        load.addAndGet(-unanswered.size());
        for (Request<?> r : unanswered) {
            r.reset();
        }
        super.channelInactive(ctx);
        BiConsumer<NbdConnection, List<Request<?>>> handler = lost;
        if (handler != null) {
            handler.accept(this, unanswered);
        }
    }

    /**
     * Asks the server to end the transmission (NBD_CMD_DISC): it answers what it still has in flight, then
     * closes (proto.md); the channel is closed here after {@code graceMillis} if the server has not.
     */
    void disconnect(long graceMillis) {
        if (channel.eventLoop().isShuttingDown()) {
            channel.close(); // the provider is stopping: its event loops close every channel anyway
            return;
        }
        channel.eventLoop().execute(() -> {
            if (channel.isActive()) {
                ByteBuf b = channel.alloc().buffer(Nbd.REQUEST_HEADER);
                b.writeInt(Nbd.REQUEST_MAGIC).writeShort(0).writeShort(Nbd.CMD_DISC).writeLong(0).writeLong(0).writeInt(0);
                channel.writeAndFlush(b);
                channel.eventLoop().schedule(() -> channel.close(), graceMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
            } else {
                channel.close();
            }
        });
    }

    /** {@link #disconnect(long)}; the stage completes once the channel is closed. */
    java.util.concurrent.CompletableFuture<Void> close(long graceMillis) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        channel.closeFuture().addListener(f -> done.complete(null));
        disconnect(graceMillis); // requests still on the wire get their replies first
        // a listener may never run on an event loop that shut down meanwhile
        return done.completeOnTimeout(null, graceMillis + 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Ends a connection that carries no requests (a failed open, an unusable reconnection). */
    void disconnect() {
        disconnect(0);
    }
}
