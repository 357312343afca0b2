package org.jtarget.iscsi.internal.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.spi.fabric.TpgLimit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI connection, and with MaxConnections=1 its session (RFC 7143): login through
 * {@link LoginNegotiator}, then the full feature phase. Everything runs on the channel's event loop; nothing
 * thrown here leaves the pipeline (a failure closes this connection only).
 *
 * <p>Command numbering (§4.2.2): non-immediate PDUs are executed in CmdSN order; PDUs ahead of ExpCmdSN wait,
 * PDUs outside the window are dropped. MaxCmdSN = ExpCmdSN + window - 1 - commands in flight, so an
 * initiator never has more than {@link TpgLimit#CMDSN_WINDOW} commands queued here. What a connection holds
 * for its peer is bounded by {@link LoginGate} (in login) and {@link ConnectionBudget} (write and read data).
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
    private int expCmdSn;
    private int inFlight;
    private int nextTtt = 1;
    private int idlePeriods;
    private int window = WINDOW;
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

    private final IntObjectMap<IscsiTask> tasks = new IntObjectHashMap<>();
    private final Map<Integer, IscsiPdu> waiting = new HashMap<>();
    /** CmdSNs ahead of ExpCmdSN that an ABORT TASK consumed (§11.5.1 b); skipped when ExpCmdSN reaches them. */
    private final Set<Integer> abortedCmdSns = new HashSet<>();
    private final Map<Integer, ByteBuf> textContinuations = new HashMap<>();

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
            submitDeferred(false);
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
            send(new NopIn(0, IscsiPdu.RESERVED_TAG, nextTargetTransferTag(), statSn, expCmdSn, maxCmdSn(), null));
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
            expCmdSn = request.cmdSn();
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
                request.isid(), reply.complete() ? tsih : 0, request.itt(), nextStatSn(), expCmdSn, maxCmdSn(),
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
        if (discovery) {
            return LoginStatus.SUCCESS;
        }
        identity = initiatorName + ",i,0x" + Long.toHexString(login.isid()) + "," + tpg.targetName() + ",t,"
                + tpg.tag();
        Map<String, String> limits = tpg.parameters();
        window = TpgLimit.CMDSN_WINDOW.valueIn(limits);
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
                onDataOut((DataOut) pdu);
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
        int cmdSn = cmdSnOf(pdu);
        if (cmdSn == expCmdSn) {
            expCmdSn++;
            if (!abortedCmdSns.remove(cmdSn)) {
                execute(pdu);
            }
            drainWaiting();
        } else if (serialGreater(cmdSn, expCmdSn) && !serialGreater(cmdSn, maxCmdSn())
                && !waiting.containsKey(cmdSn) && !abortedCmdSns.contains(cmdSn)) {
            if (!budget.reserve(ConnectionBudget.queuedOf(pdu, parameters))) {
                // MaxConnections=1: commands come in order; one held back must not pile up data behind it
                LOG.info("{}: data queued out of CmdSN order: over {} bytes (expected: at most {}): closing",
                        NetworkText.quote(initiatorName), budget.unsolicitedHeld(),
                        TpgLimit.MAX_UNSOLICITED_BYTES.key());
                close();
                return;
            }
            waiting.put(cmdSn, (IscsiPdu) ReferenceCountUtil.retain(pdu));
        } else {
            LOG.debug("dropping {} with CmdSN {} outside [{}, {}]", pdu.opcode(), cmdSn, expCmdSn, maxCmdSn());
        }
    }

    /** Executes the queued PDUs that are now in order, skipping CmdSNs an ABORT TASK consumed. */
    private void drainWaiting() {
        while (!closed) {
            IscsiPdu next = waiting.remove(expCmdSn);
            if (abortedCmdSns.remove(expCmdSn)) {
                expCmdSn++;
                dropQueued(next);
                continue;
            }
            if (next == null) {
                return;
            }
            expCmdSn++;
            budget.release(ConnectionBudget.queuedOf(next, parameters)); // a command reserves it again
            try {
                execute(next);
            } finally {
                ReferenceCountUtil.release(next);
            }
        }
    }

    /** Releases a queued PDU that will not run, with any Data-Out held for it. */
    private void dropQueued(IscsiPdu pdu) {
        if (pdu != null) {
            budget.release(ConnectionBudget.queuedOf(pdu, parameters));
        }
        if (pdu instanceof ScsiCommand c) {
            releaseEarlyData(c.itt(), false);
        }
        ReferenceCountUtil.release(pdu);
    }

    private static int cmdSnOf(IscsiPdu pdu) {
        if (pdu instanceof ScsiCommand c) {
            return c.cmdSn();
        } else if (pdu instanceof NopOut n) {
            return n.cmdSn();
        } else if (pdu instanceof TaskManagementRequest t) {
            return t.cmdSn();
        } else if (pdu instanceof TextRequest t) {
            return t.cmdSn();
        }
        return ((LogoutRequest) pdu).cmdSn();
    }

    /** RFC 1982 serial number arithmetic with SERIAL_BITS = 32 (§4.2.2.1). */
    static boolean serialGreater(int a, int b) {
        return a != b && (a - b) > 0;
    }

    private void execute(IscsiPdu pdu) {
        if (pdu instanceof ScsiCommand c) {
            onScsiCommand(c);
            releaseEarlyData(c.itt(), true);
        } else if (pdu instanceof NopOut n) {
            onNopOut(n);
        } else if (pdu instanceof TaskManagementRequest t) {
            onTaskManagement(t);
        } else if (pdu instanceof TextRequest t) {
            onText(t);
        } else if (pdu instanceof LogoutRequest l) {
            onLogout(l);
        }
    }

    private void onScsiCommand(ScsiCommand command) {
        if (discovery) { // §6.3: discovery sessions carry Text and Logout only
            reject(Reject.PROTOCOL_ERROR, command);
            return;
        }
        if (tasks.containsKey(command.itt())) {
            reject(Reject.TASK_IN_PROGRESS, command);
            return;
        }
        int immediate = command.data().readableBytes();
        if (immediate > 0 && (!parameters.immediateData() || immediate > parameters.firstBurstLength()
                || immediate > command.expectedDataLength())) { // §13.11, §13.14
            reject(Reject.PROTOCOL_ERROR, command);
            return;
        }
        if (scsi == null) { // ended by terminate() on another thread (§6.3.5 reinstatement, core): closing
            return;
        }
        int unsolicited = ConnectionBudget.unsolicitedOf(command, parameters);
        if (!budget.reserve(unsolicited)) {
            // SAM-5 5.3.1 TASK SET FULL: the initiator retries later (Linux lowers its queue depth); its
            // immediate data goes with this PDU and any unsolicited Data-Out finds no task and is dropped.
            send(new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.COMMAND_COMPLETED,
                    ScsiStatus.TASK_SET_FULL.code(), command.itt(), 0, nextStatSn(), expCmdSn, maxCmdSn(), 0, 0, 0,
                    null));
            flush();
            return;
        }
        IscsiTask task = new IscsiTask(this, command, parameters);
        tasks.put(task.itt(), task);
        if (task.countsAgainstWindow()) {
            inFlight++;
        }
        budget.started(task.itt(), unsolicited, ConnectionBudget.dataInOf(command));
        if (!budget.defer(task, ctx.channel().isWritable())) {
            submit(task);
        }
    }

    /** Hands the deferred tasks that may run now to the core ({@code force}: all of them). */
    private void submitDeferred(boolean force) {
        if (!closed) {
            budget.submitDeferred(ctx.channel(), force, this::submit);
        }
    }

    private void submit(IscsiTask task) {
        ScsiSession session = scsi;
        if (closed || session == null) {
            return; // closing (terminate() on another thread, §6.3.5): cleanUp() ends the task
        }
        try {
            session.submit(task);
        } catch (RuntimeException e) {
            LOG.warn("core failed to accept {}", task, e);
            if (tasks.remove(task.itt()) == task) {
                task.connectionLost();
                if (task.countsAgainstWindow()) {
                    inFlight--;
                }
                budget.ended(task);
                send(new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.TARGET_FAILURE,
                        ScsiStatus.GOOD.code(), task.itt(), 0, nextStatSn(), expCmdSn, maxCmdSn(), 0, 0, 0, null));
            }
        }
    }

    private void onDataOut(DataOut pdu) {
        IscsiTask task = tasks.get(pdu.itt());
        if (task == null) {
            ScsiCommand queued = queuedCommand(pdu.itt());
            if (queued != null) {
                // Unsolicited data of a command still waiting for its CmdSN turn (§4.2.2.1 orders commands,
                // not their data): keep it until the command runs, or the command would wait for it forever.
                if (!budget.holdEarly(pdu, queued, parameters)) {
                    reject(Reject.PROTOCOL_ERROR, pdu); // more than the command may bring (§13.14)
                }
                return;
            }
            LOG.debug("Data-Out for unknown ITT 0x{}: dropped", Integer.toHexString(pdu.itt()));
            return;
        }
        IscsiTask.DataOutError problem = task.onDataOut(pdu);
        if (problem == null) {
            return;
        }
        LOG.info("Data-Out error from {}: {}", NetworkText.quote(initiatorName), problem.message());
        if (problem.sequence()) {
            // §7.9: a DataSN out of order implies a Data-Out lost to a digest error; ERL 0 cannot ask for it
            // again (§7.8 b): the PDU itself is sound (no Reject), the command ends with CHECK CONDITION,
            // PROTOCOL SERVICE CRC ERROR once the last Data-Out of its open sequences has come.
            task.failDataPhase(SenseReason.PROTOCOL_SERVICE_CRC_ERROR, true, pdu.ttt(), pdu.finalFlag());
        } else {
            // a broken rule: reject the PDU and end the command with ABORTED COMMAND / DATA PHASE
            // ERROR (§7.4: a Reject never ends a task by itself); the connection and the other commands go on.
            reject(Reject.PROTOCOL_ERROR, pdu);
            task.failDataPhase(SenseReason.DATA_PHASE_ERROR, false, pdu.ttt(), pdu.finalFlag());
        }
    }

    private ScsiCommand queuedCommand(int itt) {
        for (IscsiPdu queued : waiting.values()) {
            if (queued instanceof ScsiCommand c && c.itt() == itt) {
                return c;
            }
        }
        return null;
    }

    /** Replays (or, for a command that did not become a task, drops) the Data-Out held for {@code itt}. */
    private void releaseEarlyData(int itt, boolean replay) {
        for (DataOut d : budget.takeEarly(itt)) {
            try {
                if (replay && !closed) {
                    onDataOut(d);
                }
            } finally {
                d.release();
            }
        }
    }

    private void onNopOut(NopOut ping) {
        if (ping.itt() == IscsiPdu.RESERVED_TAG) {
            return; // an answer to our NOP-In, or a ping that wants none (§11.18)
        }
        ByteBuf echo = ping.data();
        int length = Math.min(echo.readableBytes(), parameters.initiatorMaxRecvDataSegmentLength());
        send(new NopIn(ping.lun(), ping.itt(), IscsiPdu.RESERVED_TAG, nextStatSn(), expCmdSn, maxCmdSn(),
                echo.retainedSlice(echo.readerIndex(), length)));
        flush();
    }

    private void onTaskManagement(TaskManagementRequest request) {
        TaskManagementFunction function = TaskManagementFunction.fromCode(request.function());
        if (discovery) {
            reject(Reject.PROTOCOL_ERROR, request);
            return;
        }
        if (function == null) {
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_NOT_SUPPORTED);
            return;
        }
        if (function == TaskManagementFunction.TASK_REASSIGN) { // ERL 0 (§11.5.1)
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.TASK_REASSIGNMENT_NOT_SUPPORTED);
            return;
        }
        submitDeferred(true); // the core must know every task a TMF may name (SAM-5 7.1)
        IscsiTask stalled = function == TaskManagementFunction.ABORT_TASK ? tasks.get(request.referencedTaskTag())
                : null;
        if (stalled != null && stalled.abandonFailedDataPhase()) { // §7.8 b: the TMF concludes the task
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_COMPLETE);
            return;
        }
        abandonFailedDataPhases(function, request.lun());
        int ref = request.refCmdSn();
        if (function == TaskManagementFunction.ABORT_TASK && !tasks.containsKey(request.referencedTaskTag())
                && !serialGreater(expCmdSn, ref) && !serialGreater(ref, maxCmdSn())
                && serialGreater(request.cmdSn(), ref)) {
            // §11.5.1 b): the task is not running here, but its RefCmdSN lies in the command window and
            // before this TMF: that command is still on its way (or queued out of order). Consider its CmdSN
            // received (the command is dropped if it comes) and answer Function Complete, as LIO's
            // iscsit_tmr_abort_task does. A task already ended (RefCmdSN < ExpCmdSN) goes to the core below,
            // which answers TASK DOES NOT EXIST (§11.5.1 c).
            considerReceived(ref);
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_COMPLETE);
            return;
        }
        ScsiSession session = scsi;
        if (session == null) { // ended by terminate() on another thread (§6.3.5 reinstatement, core): closing
            return;
        }
        session.taskManagement(function, request.lun(), request.referencedTaskTag() & 0xffffffffL)
                .whenComplete((response, failure) -> runOnLoop(() -> {
                    if (failure != null) {
                        LOG.warn("task management {} failed", function, failure);
                    }
                    sendTaskManagementResponse(request.itt(),
                            response != null ? response : TaskManagementResponse.FUNCTION_REJECTED);
                }));
    }

    /**
     * A TMF that aborts many tasks also concludes the failed data phases waiting for their last Data-Out
     * (§7.8 b) among them: the core already answered those commands and will not abort them again.
     */
    private void abandonFailedDataPhases(TaskManagementFunction function, long lun) {
        boolean wholeTarget = function == TaskManagementFunction.TARGET_WARM_RESET
                || function == TaskManagementFunction.TARGET_COLD_RESET
                || function == TaskManagementFunction.I_T_NEXUS_RESET;
        boolean oneLu = function == TaskManagementFunction.ABORT_TASK_SET
                || function == TaskManagementFunction.CLEAR_TASK_SET
                || function == TaskManagementFunction.LOGICAL_UNIT_RESET;
        if (wholeTarget || oneLu) {
            for (IscsiTask task : new ArrayList<>(tasks.values())) {
                if (wholeTarget || task.lun() == lun) {
                    task.abandonFailedDataPhase();
                }
            }
        }
    }

    /** An aborted CmdSN in [ExpCmdSN, MaxCmdSN]: its PDU (queued or still to come) is dropped, later ones go on. */
    private void considerReceived(int cmdSn) {
        dropQueued(waiting.remove(cmdSn));
        if (cmdSn == expCmdSn) {
            expCmdSn++;
            drainWaiting();
        } else {
            abortedCmdSns.add(cmdSn);
        }
    }

    private void sendTaskManagementResponse(int itt, TaskManagementResponse response) {
        if (closed) {
            return;
        }
        send(new TaskManagementResponsePdu(response.code(), itt, nextStatSn(), expCmdSn, maxCmdSn()));
        flush();
    }

    private void onText(TextRequest request) {
        if (request.ttt() != IscsiPdu.RESERVED_TAG) { // the initiator asks for the rest of a long answer
            ByteBuf rest = textContinuations.remove(request.ttt());
            if (rest == null) {
                reject(Reject.INVALID_PDU_FIELD, request);
            } else {
                sendText(request, rest);
            }
            return;
        }
        Map<String, String> keys;
        try {
            keys = TextCodec.parse(request.data());
        } catch (TextCodec.TextFormatException e) {
            LOG.info("bad Text Request from {}: {}", NetworkText.quote(initiatorName), e.getMessage());
            reject(Reject.PROTOCOL_ERROR, request);
            return;
        }
        List<Map.Entry<String, String>> answer = new ArrayList<>();
        keys.forEach((key, value) -> {
            if (key.equals("SendTargets")) {
                answer.addAll(SendTargets.answer(discoverable(value), local));
            } else if (!value.equals("NotUnderstood") && !value.equals("Irrelevant") && !value.equals("Reject")) {
                answer.add(Map.entry(key, "NotUnderstood"));
            }
        });
        sendText(request, TextCodec.encode(ctx.alloc(), answer));
    }

    /** §13.3: All, one target name, or (normal sessions only) empty for the session's own target. */
    private List<TpgEndpoint> discoverable(String value) {
        List<TpgEndpoint> all = fabric.core().discover(fabric.fabricName(), local, initiatorName);
        if (value.equals("All")) {
            return all;
        }
        String wanted = value.isEmpty() && tpg != null ? tpg.targetName() : value;
        return all.stream().filter(t -> t.targetName().equals(wanted)).toList();
    }

    private void sendText(TextRequest request, ByteBuf text) {
        int max = parameters.initiatorMaxRecvDataSegmentLength();
        if (text.readableBytes() > max) { // §11.11.1: C bit and a TTT to fetch the rest
            int ttt = nextTargetTransferTag();
            ByteBuf chunk = text.readRetainedSlice(max);
            textContinuations.put(ttt, text);
            send(new TextResponse(false, true, request.lun(), request.itt(), ttt, nextStatSn(), expCmdSn, maxCmdSn(),
                    chunk));
        } else {
            send(new TextResponse(true, false, request.lun(), request.itt(), IscsiPdu.RESERVED_TAG, nextStatSn(),
                    expCmdSn, maxCmdSn(), text));
        }
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
        LogoutResponse pdu = new LogoutResponse(response, request.itt(), nextStatSn(), expCmdSn, maxCmdSn(), 0, 0);
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

    private void onMalformed(MalformedPdu bad) {
        if (login != null) {
            fabric.loginGuard().log().log("login protocol", "malformed PDU from " + ctx.channel().remoteAddress()
                    + " during login: " + NetworkText.escape(bad.message()));
            close(); // nothing to reject into during login (§6.3): drop the connection
            return;
        }
        LOG.info("malformed PDU from {}: {}", ctx.channel().remoteAddress(), NetworkText.escape(bad.message()));
        send(new Reject(bad.rejectReason(), nextStatSn(), expCmdSn, maxCmdSn(), 0, bad.data().retainedSlice()));
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

    private void reject(int reason, IscsiPdu pdu) {
        send(new Reject(reason, nextStatSn(), expCmdSn, maxCmdSn(), 0, IscsiPduEncoder.bhsOf(pdu)));
        flush();
    }

    // ---- for tasks and the fabric ----

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
        return expCmdSn;
    }

    int maxCmdSn() {
        return expCmdSn + window - 1 - inFlight;
    }

    int nextTargetTransferTag() {
        int ttt = nextTtt++;
        if (nextTtt == IscsiPdu.RESERVED_TAG) {
            nextTtt = 1;
        }
        return ttt;
    }

    void taskFinished(IscsiTask task) {
        if (tasks.get(task.itt()) == task) {
            tasks.remove(task.itt());
            if (task.countsAgainstWindow()) {
                inFlight--;
            }
            budget.ended(task);
            submitDeferred(false);
        }
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

    private void close() {
        closed = true;
        ctx.close();
    }

    private void cleanUp() {
        closed = true;
        loginGate.end();
        budget.clear();
        List<IscsiTask> lost = new ArrayList<>(tasks.values());
        tasks.clear();
        lost.forEach(IscsiTask::connectionLost);
        waiting.values().forEach(ReferenceCountUtil::release);
        waiting.clear();
        abortedCmdSns.clear();
        textContinuations.values().forEach(ByteBuf::release);
        textContinuations.clear();
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
