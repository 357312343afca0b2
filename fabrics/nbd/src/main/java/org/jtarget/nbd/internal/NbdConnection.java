package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.spi.fabric.TpgLimit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NBD client connection (doc/proto.md): the fixed newstyle handshake and option haggling here, then the
 * transmission phase in {@link Transmission}. Bytes are gathered in one buffer and parsed when a whole
 * message is there. Anything malformed (bad magic, unknown client flags, an option too long, more than
 * {@value #MAX_OPTIONS} options, a handshake longer than the TPG's login_timeout) ends this connection only.
 */
final class NbdConnection extends ChannelInboundHandlerAdapter implements FabricSession {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    /** Options a client may send before it chooses an export; then it is disconnected. */
    static final int MAX_OPTIONS = 32;
    /** The longest option data accepted (a name of 4096 bytes, meta context queries). */
    static final int MAX_OPTION_LENGTH = 16384;

    private static final int LOG_PER_MINUTE = 20;
    private static final Object LOG_LOCK = new Object();
    private static long logMinute;
    private static int logged;
    private static int suppressed;

    private enum State { FLAGS, OPTIONS, BUSY, TRANSMISSION, CLOSED }

    private final TargetCore core;
    private final String fabric;
    private ChannelHandlerContext ctx;
    private ByteBuf in;
    private State state = State.FLAGS;
    private boolean noZeroes;
    private boolean structured;
    private int options;
    /** The export named by the last NBD_OPT_SET_META_CONTEXT and whether base:allocation was selected. */
    private String metaExport;
    private boolean allocationSelected;
    private ScheduledFuture<?> handshakeTimer;
    private InetSocketAddress local;
    private InetSocketAddress remote;
    private Transmission transmission;

    private final Handshakes handshakes;
    /** Whether this connection counts in {@link #handshakes}. */
    private boolean counted;

    NbdConnection(TargetCore core, String fabric, Handshakes handshakes) {
        this.core = core;
        this.fabric = fabric;
        this.handshakes = handshakes;
    }

    // --- FabricSession: the initiator is the client host; the port tells nexuses of one host apart

    @Override
    public String initiatorName() {
        return "nbd:" + NetUtil.toAddressString(remote.getAddress()); // RFC 5952 form for IPv6: nbd:::1
    }

    @Override
    public String initiatorPortName() {
        return initiatorName() + ",p," + remote.getPort();
    }

    @Override
    public byte[] transportId() {
        byte[] name = initiatorPortName().getBytes(StandardCharsets.UTF_8);
        int additional = (name.length + 1 + 3) / 4 * 4;
        byte[] id = new byte[4 + Math.max(20, additional)];
        id[0] = (byte) (0x40 | NbdFabric.PROTOCOL_ID); // format 01b: an initiator port
        id[2] = (byte) ((id.length - 4) >> 8);
        id[3] = (byte) (id.length - 4);
        System.arraycopy(name, 0, id, 4, name.length);
        return id;
    }

    @Override
    public void close() {
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.channel().close();
        }
    }

    // --- channel events

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.local = (InetSocketAddress) ctx.channel().localAddress();
        this.remote = (InetSocketAddress) ctx.channel().remoteAddress();
        this.in = ctx.alloc().buffer(256);
        List<TpgEndpoint> here = core.endpoints(fabric, local);
        if (here.stream().noneMatch(this::allowedBy)) {
            log("NBD client {} refused on {}: no export here admits its address ({})", remote, local, AddressRanges.KEY);
            ctx.close();
            return;
        }
        int maxHandshakes = here.stream().mapToInt(e -> TpgLimit.MAX_LOGINS_PER_ADDRESS.valueIn(e.parameters())).min()
                .orElse(TpgLimit.MAX_LOGINS_PER_ADDRESS.defaultValue());
        if (!handshakes.enter(remote.getAddress(), maxHandshakes)) {
            log("NBD client {} refused on {}: {} connections from its address are in the handshake (max_logins_per_address)",
                    remote, local, maxHandshakes);
            ctx.close();
            return;
        }
        counted = true;
        int timeout = here.stream().mapToInt(e -> TpgLimit.LOGIN_TIMEOUT.valueIn(e.parameters())).min().orElse(TpgLimit.LOGIN_TIMEOUT.defaultValue());
        handshakeTimer = ctx.executor().schedule(() -> {
            if (state != State.TRANSMISSION && state != State.CLOSED) {
                log("NBD client {}: no export chosen within {} s, disconnected", remote, timeout);
                ctx.close();
            }
        }, timeout, TimeUnit.SECONDS);
        ByteBuf hello = ctx.alloc().buffer(18);
        hello.writeLong(Nbd.INIT_MAGIC).writeLong(Nbd.IHAVEOPT).writeShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        ctx.writeAndFlush(hello);
        ctx.fireChannelActive();
    }

    /** Refusals and protocol errors: at most {@value #LOG_PER_MINUTE} lines a minute at INFO, the rest at DEBUG. */
    private static void log(String format, Object... args) {
        long minute = System.nanoTime() / 60_000_000_000L;
        synchronized (LOG_LOCK) {
            if (minute != logMinute) {
                if (suppressed > 0) {
                    LOG.info("{} similar NBD connection messages suppressed", suppressed);
                }
                logMinute = minute;
                logged = 0;
                suppressed = 0;
            }
            if (logged >= LOG_PER_MINUTE) {
                suppressed++;
                LOG.debug(format, args);
                return;
            }
            logged++;
        }
        LOG.info(format, args);
    }

    boolean allowedBy(TpgEndpoint e) {
        return AddressRanges.parse(e.parameters().get(AddressRanges.KEY)).allows(remote.getAddress());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b) || state == State.CLOSED) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (state == State.TRANSMISSION) {
            transmission.beginBatch(); // the replies go out at channelReadComplete
            if (in.isReadable() && b.isReadable()) {
                complete(b);
            }
        }
        if (in.isReadable() || !b.isReadable()) {
            in = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), in, b);
        } else {
            in.release();
            in = b; // parsed in place: write payloads are slices of the buffer the socket was read into
        }
        process();
    }

    /**
     * In transmission, a read mostly ends inside a request (a 64 KiB write spans reads): copies from {@code b}
     * only what completes that request into {@link #in} and parses it, so that the rest of {@code b} is parsed
     * in place. Merging every read into one buffer would copy each payload once more (and grow the buffer).
     */
    private void complete(ByteBuf b) {
        int want;
        while ((want = transmission.wanted(in) - in.readableBytes()) > 0 && b.isReadable()) {
            int n = Math.min(want, b.readableBytes());
            if (in.refCnt() > 1 || in.maxFastWritableBytes() < n) {
                // the buffer is shared with payload slices in flight (or too small): the request moves to its own
                ByteBuf whole = ctx.alloc().directBuffer(in.readableBytes() + want);
                whole.writeBytes(in);
                in.release();
                in = whole;
            }
            in.writeBytes(b, n);
        }
        process();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (transmission != null && state != State.CLOSED) {
            transmission.endBatch();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            process();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        handshakeDone();
        if (in != null) {
            in.release();
            in = null;
        }
        if (transmission != null) {
            transmission.closed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("NBD client {}: {}", remote, cause.toString());
        ctx.close();
    }

    private void handshakeDone() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        if (counted) {
            counted = false;
            handshakes.leave(remote.getAddress());
        }
    }

    /** Parses what is buffered as far as the state allows; called on the event loop. */
    void process() {
        while (in != null && state != State.CLOSED && state != State.BUSY) {
            boolean progressed = switch (state) {
                case FLAGS -> clientFlags();
                case OPTIONS -> option();
                case TRANSMISSION -> transmission.next(in);
                default -> false;
            };
            if (!progressed) {
                break;
            }
        }
        if (in != null && !in.isReadable()) {
            in.discardReadBytes();
        }
    }

    void fail(String why) {
        if (state != State.CLOSED) {
            log("NBD client {}: {}; disconnected", remote, why);
            state = State.CLOSED;
            ctx.close();
        }
    }

    private boolean clientFlags() {
        if (in.readableBytes() < 4) {
            return false;
        }
        int flags = in.readInt();
        if ((flags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) {
            fail("client flags: 0x" + Integer.toHexString(flags) + " (expected: FIXED_NEWSTYLE, NO_ZEROES)");
            return false;
        }
        noZeroes = (flags & Nbd.FLAG_NO_ZEROES) != 0;
        state = State.OPTIONS;
        return true;
    }

    private boolean option() {
        if (in.readableBytes() < 16) {
            return false;
        }
        int at = in.readerIndex();
        long magic = in.getLong(at);
        int option = in.getInt(at + 8);
        long length = in.getUnsignedInt(at + 12);
        if (magic != Nbd.IHAVEOPT) {
            fail("option magic: 0x" + Long.toHexString(magic) + " (expected: 0x" + Long.toHexString(Nbd.IHAVEOPT) + ")");
            return false;
        }
        if (length > MAX_OPTION_LENGTH) {
            fail("option " + option + " length: " + length + " (expected: <= " + MAX_OPTION_LENGTH + ")");
            return false;
        }
        if (++options > MAX_OPTIONS) {
            fail("more than " + MAX_OPTIONS + " options without choosing an export");
            return false;
        }
        if (in.readableBytes() < 16 + length) {
            options--;
            return false;
        }
        in.skipBytes(16);
        ByteBuf data = in.readSlice((int) length);
        Options.handle(this, option, data);
        return true;
    }

    // --- used by Options

    ChannelHandlerContext ctx() {
        return ctx;
    }

    TargetCore core() {
        return core;
    }

    String fabric() {
        return fabric;
    }

    InetSocketAddress local() {
        return local;
    }

    boolean structured() {
        return structured;
    }

    void structured(boolean on) {
        structured = on;
    }

    void metaContext(String export, boolean allocation) {
        metaExport = export;
        allocationSelected = allocation;
    }

    boolean noZeroes() {
        return noZeroes;
    }

    void reply(int option, int type, ByteBuf data) {
        ByteBuf h = ctx.alloc().buffer(20);
        h.writeLong(Nbd.OPTION_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(data == null ? 0 : data.readableBytes());
        ctx.write(h);
        if (data != null) {
            ctx.write(data);
        }
    }

    void flush() {
        ctx.flush();
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    /** An option is being answered asynchronously: stop parsing until {@link #resume} or {@link #enter}. */
    void busy() {
        state = State.BUSY;
    }

    /** Called on the event loop when an asynchronous option finished without choosing an export. */
    void resume() {
        if (state == State.BUSY) {
            state = State.OPTIONS;
            process();
        }
    }

    /** The export is chosen: transmission begins with its LU. */
    void enter(String export, LuAccess lu, LuAccess.Facts facts, int maxInFlight) {
        if (state == State.CLOSED) {
            lu.close();
            return;
        }
        boolean allocation = structured && allocationSelected && export.equals(metaExport);
        transmission = new Transmission(this, lu, facts, structured, allocation, maxInFlight);
        handshakeDone();
        state = State.TRANSMISSION;
        log("NBD client {} uses export {} ({} bytes, block {}{})", remote, export, facts.size(), facts.blockSize(),
                facts.readOnly() ? ", read-only" : "");
        process();
    }

    /** Ends the handshake after the reply went out (NBD_OPT_ABORT). */
    void closeAfterFlush() {
        state = State.CLOSED;
        ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Opens the I_T nexus for an export this client may use. */
    LuAccess open(TpgEndpoint tpg) throws FabricException {
        return new LuAccess(core.openSession(tpg, this));
    }

    InetSocketAddress remote() {
        return remote;
    }
}
