package org.jtarget.iscsi.internal.session;

import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.TpgLimit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command numbering of a session (RFC 7143 §4.2.2): ExpCmdSN, the command window and MaxCmdSN, and the
 * non-immediate PDUs held until their CmdSN turn. A PDU at ExpCmdSN runs at once, PDUs ahead of it (up to
 * MaxCmdSN) wait, PDUs outside [ExpCmdSN, MaxCmdSN] and duplicates are dropped; CmdSNs an ABORT TASK consumed
 * ahead of ExpCmdSN (§11.5.1 b) are skipped when ExpCmdSN reaches them. MaxCmdSN = ExpCmdSN + window - 1 -
 * commands in flight (§4.2.2.1), so an initiator never has more than the window ({@link TpgLimit#CMDSN_WINDOW})
 * of commands here. Unsolicited Data-Out of a command still waiting for its turn is held in the connection's
 * {@link ConnectionBudget} and replayed when the command runs (§4.2.2.1 orders commands, not their data).
 *
 * <p>Single-threaded on the connection's event loop, like {@link IscsiConnection}. A queued PDU is retained
 * when queued and released exactly once: after it ran, when it is dropped, or in {@link #clear()}.
 */
final class CommandOrdering {
    /** The connection's log: log configuration and watchers address these lines by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(IscsiConnection.class);

    private final IscsiConnection connection;
    private final Map<Integer, IscsiPdu> waiting = new HashMap<>();
    /** CmdSNs ahead of ExpCmdSN that an ABORT TASK consumed (§11.5.1 b); skipped when ExpCmdSN reaches them. */
    private final Set<Integer> abortedCmdSns = new HashSet<>();
    private int expCmdSn;
    private int inFlight;
    private int window = IscsiConnection.WINDOW;

    CommandOrdering(IscsiConnection connection) {
        this.connection = connection;
    }

    /** The CmdSN of the first Login Request (§6.3): the session's commands start there. */
    void start(int cmdSn) {
        expCmdSn = cmdSn;
    }

    /** The TPG's {@link TpgLimit#CMDSN_WINDOW} (§4.2.2.1). */
    void window(int window) {
        this.window = window;
    }

    int expCmdSn() {
        return expCmdSn;
    }

    int maxCmdSn() {
        return expCmdSn + window - 1 - inFlight;
    }

    /** A task that counts against the window started (MaxCmdSN moves back by one). */
    void commandStarted() {
        inFlight++;
    }

    /** A task that counted against the window ended (MaxCmdSN moves on by one). */
    void commandEnded() {
        inFlight--;
    }

    /** A non-immediate PDU (§4.2.2.1): executed in CmdSN order, queued, or dropped. */
    void receive(IscsiPdu pdu) {
        int cmdSn = cmdSnOf(pdu);
        if (cmdSn == expCmdSn) {
            expCmdSn++;
            if (!abortedCmdSns.remove(cmdSn)) {
                connection.execute(pdu);
            }
            drainWaiting();
        } else if (serialGreater(cmdSn, expCmdSn) && !serialGreater(cmdSn, maxCmdSn())
                && !waiting.containsKey(cmdSn) && !abortedCmdSns.contains(cmdSn)) {
            ConnectionBudget budget = connection.budget();
            if (!budget.reserve(ConnectionBudget.queuedOf(pdu, connection.parameters()))) {
                // MaxConnections=1: commands come in order; one held back must not pile up data behind it
                LOG.info("{}: data queued out of CmdSN order: over {} bytes (expected: at most {}): closing",
                        NetworkText.quote(connection.initiatorName()), budget.unsolicitedHeld(),
                        TpgLimit.MAX_UNSOLICITED_BYTES.key());
                connection.close();
                return;
            }
            waiting.put(cmdSn, (IscsiPdu) ReferenceCountUtil.retain(pdu));
        } else {
            LOG.debug("dropping {} with CmdSN {} outside [{}, {}]", pdu.opcode(), cmdSn, expCmdSn, maxCmdSn());
        }
    }

    /** Executes the queued PDUs that are now in order, skipping CmdSNs an ABORT TASK consumed. */
    private void drainWaiting() {
        while (!connection.isClosed()) {
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
            // a command reserves it again
            connection.budget().release(ConnectionBudget.queuedOf(next, connection.parameters()));
            try {
                connection.execute(next);
            } finally {
                ReferenceCountUtil.release(next);
            }
        }
    }

    /** Releases a queued PDU that will not run, with any Data-Out held for it. */
    private void dropQueued(IscsiPdu pdu) {
        if (pdu != null) {
            connection.budget().release(ConnectionBudget.queuedOf(pdu, connection.parameters()));
        }
        if (pdu instanceof ScsiCommand c) {
            releaseEarlyData(c.itt(), false);
        }
        ReferenceCountUtil.release(pdu);
    }

    /** The SCSI Command waiting for its CmdSN turn with this ITT, or null. */
    ScsiCommand queuedCommand(int itt) {
        for (IscsiPdu queued : waiting.values()) {
            if (queued instanceof ScsiCommand c && c.itt() == itt) {
                return c;
            }
        }
        return null;
    }

    /** Replays (or, for a command that did not become a task, drops) the Data-Out held for {@code itt}. */
    void releaseEarlyData(int itt, boolean replay) {
        for (DataOut d : connection.budget().takeEarly(itt)) {
            try {
                if (replay && !connection.isClosed()) {
                    connection.tasks().onDataOut(d);
                }
            } finally {
                d.release();
            }
        }
    }

    /**
     * §11.5.1 b): whether an ABORT TASK with CmdSN {@code tmfCmdSn} names a command not received yet: its
     * RefCmdSN lies in the command window [ExpCmdSN, MaxCmdSN] and before the TMF.
     */
    boolean aheadInWindow(int refCmdSn, int tmfCmdSn) {
        return !serialGreater(expCmdSn, refCmdSn) && !serialGreater(refCmdSn, maxCmdSn())
                && serialGreater(tmfCmdSn, refCmdSn);
    }

    /** An aborted CmdSN in [ExpCmdSN, MaxCmdSN]: its PDU (queued or still to come) is dropped, later ones go on. */
    void considerReceived(int cmdSn) {
        dropQueued(waiting.remove(cmdSn));
        if (cmdSn == expCmdSn) {
            expCmdSn++;
            drainWaiting();
        } else {
            abortedCmdSns.add(cmdSn);
        }
    }

    /** The connection ended: releases every queued PDU. */
    void clear() {
        waiting.values().forEach(ReferenceCountUtil::release);
        waiting.clear();
        abortedCmdSns.clear();
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
}
