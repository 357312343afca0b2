package org.jtarget.iscsi.internal.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.codec.IscsiPduEncoder;
import org.jtarget.iscsi.internal.login.LoginNegotiator;
import org.jtarget.iscsi.internal.login.LoginReply;
import org.jtarget.iscsi.internal.login.LoginStatus;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Opcode;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.spi.fabric.TpgLimit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI connection, and with MaxConnections=1 its session (RFC 7143): the socket, login through
 * {@link LoginNegotiator}, StatSN, then the full feature phase. Everything runs on the channel's event loop;
 * nothing thrown here leaves the pipeline (a failure closes this connection only).
 *
 * <p>Command numbering (§4.2.2) is {@link CommandOrdering}'s: non-immediate PDUs are executed in CmdSN order,
 * so an initiator never has more than {@link TpgLimit#CMDSN_WINDOW} commands queued here. Text Requests
 * (§11.10, SendTargets) are {@link TextExchange}'s. What a connection holds for its peer is bounded by
 * {@link LoginGate} (in login) and {@link ConnectionBudget} (write and read data).
 */
public final class IscsiConnection extends ChannelInboundHandlerAdapter {
    /** Command window (§4.2.2.1) by default; the TPG's {@link TpgLimit#CMDSN_WINDOW} applies. */
    static final int WINDOW = 128;
    /** Seconds without a PDU from the initiator before a NOP-In ping (or, in login, before giving up). */
    public static final int IDLE_SECONDS = 15;
    /**
     * Idle periods without any PDU from the initiator, pings unanswered, before the connection is closed:
     * 90 s. Initiators that service their socket only between blocking waits (libiscsi's synchronous API,
     * which may sleep for a minute while polling a long SANITIZE) must not lose their session for it; a dead
     * peer is still found within two minutes, and a closed socket at once.
     */
    static final int IDLE_PERIODS_BEFORE_CLOSE = 6;
    private static final Logger LOG = LoggerFactory.getLogger(IscsiConnection.class);

    private final FabricContext fabric;
    private final ConnectionSettings settings;
    private final InetSocketAddress localOverride;
    private ChannelHandlerContext ctx;
    private InetSocketAddress local;

    private LoginNegotiator login;
    private boolean loginStarted;
    private int statSn = 1;
    private int nextTtt = 1;
    private int idlePeriods;
    private final LoginGate loginGate;
    private ConnectionBudget budget = new ConnectionBudget(Map.of());

    private SessionParameters parameters;
    private boolean discovery;
    private TpgEndpoint tpg;
    private String initiatorName;
    private String identity;
    private int tsih;
    private int cid;
    private volatile ScsiSession scsi;
    private boolean closed;

    private final CommandOrdering ordering = new CommandOrdering(this);
    private final TaskSet tasks = new TaskSet(this, ordering);
    private TextExchange text;

    /**
     * @param localOverride the portal address to report and look targets up by, or null for the channel's own
     *                      local address (tests on EmbeddedChannel pass one)
     */
    public IscsiConnection(FabricContext fabric, ConnectionSettings settings, InetSocketAddress localOverride) {
        this.fabric = fabric;
        this.settings = settings;
        this.localOverride = localOverride;
        this.loginGate = new LoginGate(fabric.registry(), fabric.loginGuard().log());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        local = localOverride != null ? localOverride
                : ctx.channel().localAddress() instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
        login = new LoginNegotiator(fabric.core(), fabric.fabricName(), local,
                ctx.channel().remoteAddress() instanceof InetSocketAddress peer ? peer.getAddress() : null,
                fabric.random(), fabric.loginGuard(), LOG::info);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!loginGate.admit(ctx, local, () -> fabric.core().endpoints(fabric.fabricName(), local), this::close)) {
            close();
        }
        ctx.fireChannelActive();
    }

    /** A peer that does not read (write buffer above its high water mark): stop reading it until it drains. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(writable);
        if (writable) {
            idlePeriods = 0; // the peer reads: alive
            tasks.submitDeferred(false);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closed) {
                return;
            }
            idlePeriods = 0; // the initiator is alive
            if (msg instanceof MalformedPdu bad) {
                onMalformed(bad);
            } else if (!(msg instanceof IscsiPdu pdu)) {
                LOG.warn("unexpected message {}", msg);
            } else if (login != null) {
                onLoginPhase(pdu);
            } else {
                onFullFeature(pdu);
            }
        } catch (RuntimeException e) {
            LOG.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), NetworkText.escape(e), e);
            close();
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * Reader idle (see {@link #IDLE_SECONDS}): a login that stalls is dropped; in the full feature phase each
     * idle period sends a NOP-In ping (§11.19, TTT set, StatSN not advanced), and
     * {@link #IDLE_PERIODS_BEFORE_CLOSE} of them in a row without any PDU from the initiator close the connection.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (!(event instanceof IdleStateEvent)) {
            ctx.fireUserEventTriggered(event);
            return;
        }
        if (closed) {
            return;
        }
        if (login != null) {
            fabric.loginGuard().log().log("login stalled", "login from " + ctx.channel().remoteAddress()
                    + " stalled for " + IDLE_SECONDS + " s: closing");
            close();
        } else if (++idlePeriods >= IDLE_PERIODS_BEFORE_CLOSE) {
            LOG.info("{} sent nothing for {} s and did not answer NOP-In pings: closing",
                    NetworkText.quote(initiatorName), IDLE_SECONDS * IDLE_PERIODS_BEFORE_CLOSE);
            close();
        } else {
            send(new NopIn(0, IscsiPdu.RESERVED_TAG, nextTargetTransferTag(), statSn, expCmdSn(), maxCmdSn(), null));
            flush();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cleanUp();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!closed) { // every write still queued fails after a reset and reports here (void promises): log once
            LOG.info("connection from {} failed: {}", ctx.channel().remoteAddress(), NetworkText.escape(cause));
        }
        close();
    }

    // ---- login (RFC 7143 §6.3, §11.12) ----

    private void onLoginPhase(IscsiPdu pdu) {
        if (!(pdu instanceof LoginRequest request)) {
            fabric.loginGuard().log().log("login protocol", pdu.opcode() + " from " + ctx.channel().remoteAddress()
                    + " before login completed: closing");
            close(); // §6.3: only Login Requests before the full feature phase
            return;
        }
        if (!loginStarted) {
            loginStarted = true;
            ordering.start(request.cmdSn());
            if (request.tsih() != 0) {
                // A non-zero TSIH adds a connection to a session or reinstates one of its connections (§6.3.4,
                // §11.12.5). With MaxConnections=1 and ErrorRecoveryLevel=0 there is neither: answer Session Does
                // Not Exist, whatever the TSIH, so the initiator logs in afresh with TSIH 0. That login replaces
                // the old session only once it has passed the security stage, and only for the same
                // InitiatorName, ISID and TPG (session reinstatement, §6.3.5: enterFullFeaturePhase).
                // Nothing about the session that TSIH names changes here: this peer is not authenticated yet,
                // and TSIHs and ISIDs are easy to guess.
                sendLoginResponse(request, new LoginReply(false, request.csg(), request.nsg(),
                        LoginStatus.SESSION_DOES_NOT_EXIST, List.of(), false));
                return;
            }
        }
        LoginReply reply = login.process(request);
        if (reply.complete()) {
            LoginStatus status = enterFullFeaturePhase();
            if (status != LoginStatus.SUCCESS) {
                reply = new LoginReply(false, request.csg(), request.nsg(), status, List.of(), false);
            }
        }
        long delay = reply.failed() ? login.failureDelayNanos() : 0;
        if (delay > 0) { // LoginThrottle: answer later, scheduled on the event loop (no thread waits)
            closed = true;
            LoginReply late = reply;
            ctx.executor().schedule(() -> sendLoginResponse(request, late), delay, TimeUnit.NANOSECONDS);
            return;
        }
        sendLoginResponse(request, reply);
        if (reply.complete()) {
            // §13.1, §13.12: digests and the new limits apply from the next PDU on.
            settings.headerDigest(parameters.headerDigest());
            settings.dataDigest(parameters.dataDigest());
            settings.maxRecvDataSegmentLength(parameters.targetMaxRecvDataSegmentLength());
            login = null;
            loginGate.end();
            LOG.info("{} session of {} from {} (TSIH {}): {}", discovery ? "discovery" : "normal",
                    NetworkText.quote(initiatorName),
                    ctx.channel().remoteAddress(), tsih, parameters);
        }
    }

    private void sendLoginResponse(LoginRequest request, LoginReply reply) {
        ByteBuf text = TextCodec.encode(ctx.alloc(), reply.keys());
        LoginResponse response = new LoginResponse(reply.transit(), false, reply.csg(), reply.nsg(), 0, 0,
                request.isid(), reply.complete() ? tsih : 0, request.itt(), nextStatSn(), expCmdSn(), maxCmdSn(),
                reply.status().statusClass(), reply.status().detail(), text);
        if (reply.failed()) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            closed = true;
        } else {
            ctx.writeAndFlush(response, ctx.voidPromise());
        }
    }

    private LoginStatus enterFullFeaturePhase() {
        parameters = login.parameters();
        discovery = login.discovery();
        tpg = login.tpg();
        initiatorName = login.initiatorName();
        cid = login.cid();
        tsih = fabric.registry().allocateTsih(this);
        text = new TextExchange(this, fabric, local, tpg);
        if (discovery) {
            return LoginStatus.SUCCESS;
        }
        identity = initiatorName + ",i,0x" + Long.toHexString(login.isid()) + "," + tpg.targetName() + ",t,"
                + tpg.tag();
        Map<String, String> limits = tpg.parameters();
        ordering.window(TpgLimit.CMDSN_WINDOW.valueIn(limits));
        budget = new ConnectionBudget(limits);
        IscsiConnection[] replaced = new IscsiConnection[1];
        String refusal = fabric.registry().register(identity, tpg.targetName(), initiatorName, this,
                TpgLimit.MAX_SESSIONS.valueIn(limits), TpgLimit.MAX_SESSIONS_PER_INITIATOR.valueIn(limits), replaced);
        if (refusal != null) { // §11.13.5: 0x0302 "insufficient session, connection, or other resources"
            fabric.loginGuard().log().log("max_sessions", "login of " + NetworkText.quote(initiatorName) + " to "
                    + tpg.targetName() + " refused: " + refusal);
            identity = null;
            return LoginStatus.OUT_OF_RESOURCES;
        }
        IscsiConnection old = replaced[0];
        if (old != null) { // §6.3.5 session reinstatement: the new login replaces the old session
            LOG.info("reinstating session {} (TSIH {} replaces {})", NetworkText.quote(identity), tsih, old.tsih);
            old.terminate();
        }
        try {
            scsi = fabric.core().openSession(tpg, new IscsiFabricSession(initiatorName, login.isid(), this));
            return LoginStatus.SUCCESS;
        } catch (FabricException e) {
            LOG.info("login of {} to {} refused by the core: {}", NetworkText.quote(initiatorName), tpg.targetName(),
                    NetworkText.escape(e.getMessage()));
            return LoginStatus.AUTHORIZATION_FAILURE;
        } catch (RuntimeException e) {
            LOG.warn("login of {} to {} failed in the core", NetworkText.quote(initiatorName), tpg.targetName(), e);
            return LoginStatus.TARGET_ERROR;
        }
    }

    String targetName() {
        return tpg == null ? null : tpg.targetName();
    }

    String initiatorName() {
        return initiatorName;
    }

    // ---- full feature phase ----

    private void onFullFeature(IscsiPdu pdu) {
        switch (pdu.opcode()) {
            case DATA_OUT:
                tasks.onDataOut((DataOut) pdu);
                return;
            case SCSI_COMMAND:
            case NOP_OUT:
            case TASK_MANAGEMENT_REQUEST:
            case TEXT_REQUEST:
            case LOGOUT_REQUEST:
                break;
            case SNACK_REQUEST: // ErrorRecoveryLevel=0 (§13.20): no SNACK support
                reject(Reject.COMMAND_NOT_SUPPORTED, pdu);
                return;
            default:
                reject(Reject.PROTOCOL_ERROR, pdu);
                return;
        }
        if (pdu.immediate() || (pdu instanceof NopOut n && n.itt() == IscsiPdu.RESERVED_TAG)) {
            execute(pdu);
            return;
        }
        ordering.receive(pdu);
    }

    /** Runs a PDU whose CmdSN turn has come (or an immediate one, §4.2.2.1). */
    void execute(IscsiPdu pdu) {
        if (pdu instanceof ScsiCommand c) {
            tasks.onScsiCommand(c);
            ordering.releaseEarlyData(c.itt(), true);
        } else if (pdu instanceof NopOut n) {
            onNopOut(n);
        } else if (pdu instanceof TaskManagementRequest t) {
            tasks.onTaskManagement(t);
        } else if (pdu instanceof TextRequest t) {
            text.onText(t);
        } else if (pdu instanceof LogoutRequest l) {
            onLogout(l);
        }
    }

    private void onNopOut(NopOut ping) {
        if (ping.itt() == IscsiPdu.RESERVED_TAG) {
            return; // an answer to our NOP-In, or a ping that wants none (§11.18)
        }
        ByteBuf echo = ping.data();
        int length = Math.min(echo.readableBytes(), parameters.initiatorMaxRecvDataSegmentLength());
        send(new NopIn(ping.lun(), ping.itt(), IscsiPdu.RESERVED_TAG, nextStatSn(), expCmdSn(), maxCmdSn(),
                echo.retainedSlice(echo.readerIndex(), length)));
        flush();
    }

    private void onLogout(LogoutRequest request) {
        int response;
        if (request.reason() == LogoutRequest.REMOVE_FOR_RECOVERY) {
            response = LogoutResponse.RECOVERY_NOT_SUPPORTED; // ERL 0
        } else if (request.reason() == LogoutRequest.CLOSE_CONNECTION && request.cid() != cid) {
            response = LogoutResponse.CID_NOT_FOUND;
        } else if (request.reason() == LogoutRequest.CLOSE_SESSION
                || request.reason() == LogoutRequest.CLOSE_CONNECTION) {
            response = LogoutResponse.SUCCESS;
        } else {
            reject(Reject.INVALID_PDU_FIELD, request);
            return;
        }
        LogoutResponse pdu = new LogoutResponse(response, request.itt(), nextStatSn(), expCmdSn(), maxCmdSn(), 0, 0);
        if (response == LogoutResponse.SUCCESS) {
            closed = true; // §11.14: the connection (and with it this session) ends after the response
            // End the I_T nexus before the initiator can see the response: it may log in again at once on
            // another connection, and must find the old nexus's state (PREVENT, SPC-2 reservation) gone.
            endScsiSession();
            ctx.writeAndFlush(pdu).addListener(ChannelFutureListener.CLOSE);
        } else {
            send(pdu);
            flush();
        }
    }

    // ---- errors ----

    /**
     * Logs a protocol error of a peer in the full feature phase through the fabric's {@link
     * org.jtarget.iscsi.internal.login.LogLimiter}: a peer sending nothing but bad PDUs must not fill the disk.
     * Network values in {@code line} are escaped by the caller.
     */
    void protocolError(String line) {
        fabric.loginGuard().log().log("protocol error", line);
    }

    private void onMalformed(MalformedPdu bad) {
        if (login != null) {
            fabric.loginGuard().log().log("login protocol", "malformed PDU from " + ctx.channel().remoteAddress()
                    + " during login: " + NetworkText.escape(bad.message()));
            close(); // nothing to reject into during login (§6.3): drop the connection
            return;
        }
        protocolError("malformed PDU from " + ctx.channel().remoteAddress() + ": " + NetworkText.escape(bad.message()));
        send(new Reject(bad.rejectReason(), nextStatSn(), expCmdSn(), maxCmdSn(), 0, bad.data().retainedSlice()));
        if (!bad.fatal() && bad.rejectReason() == Reject.DATA_DIGEST_ERROR
                && (bad.data().getByte(0) & 0x3f) == Opcode.DATA_OUT.code()) {
            // §7.8: the data is lost and ERL 0 cannot ask for it again: end the command it belonged to.
            IscsiTask task = tasks.get(bad.itt());
            if (task != null) { // §7.8 b: answered after the last Data-Out of the open sequences
                ByteBuf bhs = bad.data();
                task.failDataPhase(SenseReason.PROTOCOL_SERVICE_CRC_ERROR, true, bhs.getInt(20),
                        (bhs.getByte(1) & 0x80) != 0);
            }
        }
        if (bad.fatal()) {
            closed = true;
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            flush();
        }
    }

    void reject(int reason, IscsiPdu pdu) {
        send(new Reject(reason, nextStatSn(), expCmdSn(), maxCmdSn(), 0, IscsiPduEncoder.bhsOf(pdu)));
        flush();
    }

    // ---- for the session's parts (CommandOrdering, TaskSet, TextExchange), tasks and the fabric ----

    void runOnLoop(Runnable task) {
        if (ctx.executor().inEventLoop()) {
            task.run();
        } else {
            ctx.executor().execute(task);
        }
    }

    SessionParameters parameters() {
        return parameters;
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    void send(IscsiPdu pdu) {
        if (closed) {
            ReferenceCountUtil.release(pdu);
            return;
        }
        ctx.write(pdu, ctx.voidPromise());
    }

    void flush() {
        if (!closed) {
            ctx.flush();
        }
    }

    int statSn() {
        return statSn;
    }

    int nextStatSn() {
        return statSn++;
    }

    int expCmdSn() {
        return ordering.expCmdSn();
    }

    int maxCmdSn() {
        return ordering.maxCmdSn();
    }

    ConnectionBudget budget() {
        return budget;
    }

    boolean isClosed() {
        return closed;
    }

    boolean discovery() {
        return discovery;
    }

    /** The core's session, null once ended (terminate() may end it from another thread, §6.3.5). */
    ScsiSession scsiSession() {
        return scsi;
    }

    Channel channel() {
        return ctx.channel();
    }

    TaskSet tasks() {
        return tasks;
    }

    int nextTargetTransferTag() {
        int ttt = nextTtt++;
        if (nextTtt == IscsiPdu.RESERVED_TAG) {
            nextTtt = 1;
        }
        return ttt;
    }

    void taskFinished(IscsiTask task) {
        tasks.finished(task);
    }

    /** Ends the connection from any thread (target-side close, reinstatement, fabric shutdown). */
    void terminate() {
        ScsiSession session = scsi;
        Channel channel = ctx.channel();
        if (session != null) {
            scsi = null;
            session.close();
        }
        channel.close();
    }

    /** Closes this connection (event loop); nothing is sent after this. */
    void close() {
        closed = true;
        ctx.close();
    }

    private void cleanUp() {
        closed = true;
        loginGate.end();
        budget.clear();
        tasks.connectionLost();
        ordering.clear();
        if (text != null) {
            text.clear();
        }
        endScsiSession();
    }

    /** Closes the SCSI session (once) and forgets this session in the registry. */
    private void endScsiSession() {
        ScsiSession session = scsi;
        scsi = null;
        if (session != null) {
            try {
                session.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the SCSI session of {} failed", NetworkText.quote(initiatorName), e);
            }
        }
        fabric.registry().remove(identity, tsih, this);
    }

    @Override
    public String toString() {
        return "IscsiConnection[" + (identity != null ? identity : initiatorName) + ", tsih=" + tsih + "]";
    }
}
