package org.jtarget.iscsi.internal.session;

import static org.jtarget.iscsi.internal.testing.TestInitiator.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.testing.FakeScsiSession;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.spi.fabric.ScsiTask;
import org.jtarget.spi.fabric.TpgLimit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-peer resource limits ({@link TpgLimit}) on EmbeddedChannels against a fake core. */
class ConnectionLimitsTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:limits";
    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 1, TestInitiator.PORTAL, 1024);
    private final SessionRegistry registry = new SessionRegistry();
    private final List<TestInitiator> initiators = new ArrayList<>();

    @AfterEach
    void close() {
        initiators.forEach(TestInitiator::close);
    }

    private TestInitiator connect() {
        TestInitiator i = new TestInitiator(core, registry);
        initiators.add(i);
        return i;
    }

    private void limit(TpgLimit limit, int value) {
        tpg.parameters.put(limit.key(), Integer.toString(value));
    }

    /** Logs in as {@code name} with {@code isid}; returns the final Login Response's status (class << 8 | detail). */
    private static int login(TestInitiator i, String name, long isid) {
        i.send(new LoginRequest(true, false, 0, 1, 0, 0, isid, 0, i.nextItt(), 1, i.cmdSn, i.expStatSn,
                text("InitiatorName=" + name, "SessionType=Normal", "TargetName=" + TARGET, "AuthMethod=None")));
        LoginResponse security = i.receive(LoginResponse.class);
        i.expStatSn = security.statSn() + 1;
        security.release();
        i.send(new LoginRequest(true, false, 1, 3, 0, 0, isid, 0, i.nextItt(), 1, i.cmdSn, i.expStatSn, text()));
        LoginResponse op = i.receive(LoginResponse.class);
        i.expStatSn = op.statSn() + 1;
        op.release();
        return op.statusClass() << 8 | op.statusDetail();
    }

    private static ScsiCommand command(TestInitiator i, byte[] cdb, boolean read, boolean write, int edtl,
                                       ByteBuf immediate, boolean fin) {
        return new ScsiCommand(false, fin, read, write, 1, 0, i.nextItt(), edtl, i.cmdSn++, i.expStatSn,
                Arrays.copyOf(cdb, 16), 0, immediate);
    }

    private static byte[] rw10(int op, int lba, int blocks) {
        return new byte[] {(byte) op, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba, 0,
                (byte) (blocks >> 8), (byte) blocks, 0};
    }

    private static List<Integer> statuses(List<IscsiPdu> pdus) {
        List<Integer> out = new ArrayList<>();
        for (IscsiPdu p : pdus) {
            if (p instanceof ScsiResponsePdu r) {
                out.add(r.status());
            } else if (p instanceof DataIn d && d.statusPresent()) {
                out.add(d.status());
            }
            ReferenceCountUtil.release(p);
        }
        return out;
    }

    @Test
    void sessionsBeyondMaxSessionsGetOutOfResourcesAndReinstatementIsNotCounted() {
        limit(TpgLimit.MAX_SESSIONS, 2);
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:a", 1));
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:b", 1));
        TestInitiator third = connect();
        assertEquals(0x0302, login(third, "iqn.2026-11.org.example:c", 1), "RFC 7143 §11.13.5 Out of resources");
        assertFalse(third.target.isOpen(), "a failed login ends the connection");
        // same initiator + ISID: §6.3.5 reinstatement replaces the session, the count stays 2
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:a", 1));
        assertFalse(initiators.get(0).target.isOpen(), "the reinstated session is closed");
        assertEquals(2, registry.size());
    }

    @Test
    void oneInitiatorGetsAtMostMaxSessionsPerInitiator() {
        limit(TpgLimit.MAX_SESSIONS_PER_INITIATOR, 2);
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:a", 1));
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:a", 2));
        assertEquals(0x0302, login(connect(), "iqn.2026-11.org.example:a", 3));
        assertEquals(0, login(connect(), "iqn.2026-11.org.example:b", 3), "other initiators are not affected");
    }

    @Test
    void connectionsInLoginPerAddressAreCappedAndEstablishedSessionsDoNotCount() {
        limit(TpgLimit.MAX_LOGINS_PER_ADDRESS, 2);
        TestInitiator established = connect();
        assertEquals(0, login(established, "iqn.2026-11.org.example:a", 1));
        TestInitiator first = connect();
        TestInitiator second = connect();
        TestInitiator third = connect();
        assertTrue(first.target.isOpen() && second.target.isOpen());
        assertFalse(third.target.isOpen(), "connection 3 in login from one address is closed at once");
        assertEquals(2, registry.inLogin("embedded"));
        assertEquals(0, login(first, "iqn.2026-11.org.example:b", 1));
        assertTrue(connect().target.isOpen(), "a finished login frees its place");
        second.target.close();
        assertEquals(1, registry.inLogin("embedded"), "so does a closed connection");
        assertTrue(established.target.isOpen());
    }

    @Test
    void aLoginNotCompleteWithinLoginTimeoutIsClosed() {
        limit(TpgLimit.LOGIN_TIMEOUT, 5);
        TestInitiator done = connect();
        assertEquals(0, login(done, "iqn.2026-11.org.example:a", 1));
        TestInitiator slow = connect();
        // a slow-drip login: the first stage answered, the second never comes
        slow.send(new LoginRequest(false, false, 0, 1, 0, 0, 7, 0, slow.nextItt(), 1, slow.cmdSn, slow.expStatSn,
                text("InitiatorName=iqn.2026-11.org.example:b", "SessionType=Normal", "TargetName=" + TARGET,
                        "AuthMethod=None")));
        slow.receive(LoginResponse.class).release();
        slow.target.advanceTimeBy(4, TimeUnit.SECONDS);
        slow.target.runScheduledPendingTasks();
        assertTrue(slow.target.isOpen());
        for (TestInitiator i : initiators) {
            i.target.advanceTimeBy(2, TimeUnit.SECONDS);
            i.target.runScheduledPendingTasks();
        }
        assertFalse(slow.target.isOpen(), "closed after login_timeout");
        assertTrue(done.target.isOpen(), "a session in the full feature phase has no login timeout");
        assertEquals(0, registry.inLogin("embedded"));
    }

    @Test
    void cmdsnWindowSetsMaxCmdSn() {
        limit(TpgLimit.CMDSN_WINDOW, 8);
        TestInitiator i = connect();
        assertEquals(0, login(i, "iqn.2026-11.org.example:a", 1));
        i.send(command(i, new byte[6], false, false, 0, null, true));
        ScsiResponsePdu r = i.receive(ScsiResponsePdu.class);
        assertEquals(i.cmdSn + 8 - 1, r.maxCmdSn(), "§4.2.2.1 MaxCmdSN = ExpCmdSN + cmdsn_window - 1");
        r.release();
    }

    @Test
    void unsolicitedDataBeyondTheBudgetGetsTaskSetFull() {
        limit(TpgLimit.MAX_UNSOLICITED_BYTES, 65536);
        TestInitiator i = connect();
        i.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=Yes", "FirstBurstLength=65536",
                "MaxRecvDataSegmentLength=65536");
        FakeScsiSession session = core.sessions.get(0);
        session.holdWrites = true;
        for (int n = 0; n < 3; n++) { // 32 KiB of immediate data each: the third does not fit in 64 KiB
            i.send(command(i, rw10(0x2a, n * 64, 64), false, true, 32768, Unpooled.wrappedBuffer(new byte[32768]),
                    true));
        }
        assertEquals(List.of(ScsiStatus.TASK_SET_FULL.code()), statuses(i.receiveAll()), "SAM-5 5.3.1");
        assertEquals(2, session.inFlight.size(), "two writes reached the core");
        // a write that brings no unsolicited data is not held back
        i.send(command(i, rw10(0x2a, 512, 1), false, true, 512, null, true));
        assertEquals(3, session.inFlight.size());
        session.holdWrites = false;
        for (ScsiTask t : List.copyOf(session.inFlight.values())) {
            session.inFlight.remove(t.tag());
            t.aborted();
        }
        i.target.runPendingTasks();
        i.send(command(i, rw10(0x2a, 0, 64), false, true, 32768, Unpooled.wrappedBuffer(new byte[32768]), true));
        assertEquals(List.of(ScsiStatus.GOOD.code()), statuses(i.receiveAll()), "room again once the writes ended");
    }

    @Test
    void dataQueuedOutOfOrderBeyondTheBudgetClosesTheConnection() {
        limit(TpgLimit.MAX_UNSOLICITED_BYTES, 65536);
        TestInitiator i = connect();
        i.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=Yes", "FirstBurstLength=65536",
                "MaxRecvDataSegmentLength=65536");
        i.cmdSn++; // CmdSN held back: what follows waits (§4.2.2.1)
        ScsiCommand queued = command(i, rw10(0x2a, 0, 64), false, true, 32768, Unpooled.wrappedBuffer(new byte[8192]),
                false);
        i.send(queued);
        // its unsolicited Data-Out is kept, but not beyond what the command may bring (EDTL 32768)
        i.send(new DataOut(false, 0, queued.itt(), IscsiPdu.RESERVED_TAG, i.expStatSn, 0, 8192,
                Unpooled.wrappedBuffer(new byte[24576])));
        assertTrue(i.receiveAll().isEmpty());
        i.send(new DataOut(true, 0, queued.itt(), IscsiPdu.RESERVED_TAG, i.expStatSn, 1, 32768,
                Unpooled.wrappedBuffer(new byte[512])));
        Reject reject = i.receive(Reject.class);
        assertEquals(Reject.PROTOCOL_ERROR, reject.reason());
        reject.release();
        assertTrue(i.target.isOpen());
        i.send(command(i, rw10(0x2a, 64, 64), false, true, 32768, Unpooled.wrappedBuffer(new byte[32768]), true));
        assertTrue(i.target.isOpen(), "64 KiB queued: within the budget");
        i.send(command(i, rw10(0x2a, 128, 64), false, true, 32768, Unpooled.wrappedBuffer(new byte[1024]), true));
        assertFalse(i.target.isOpen(), "beyond max_unsolicited_bytes while out of order: closed");
    }

    @Test
    void pingDataQueuedOutOfOrderCountsAgainstTheBudget() {
        limit(TpgLimit.MAX_UNSOLICITED_BYTES, 65536);
        TestInitiator i = connect();
        i.loginNormal(TARGET, "MaxRecvDataSegmentLength=65536");
        i.cmdSn++; // CmdSN held back
        i.send(new NopOut(false, 0, i.nextItt(), IscsiPdu.RESERVED_TAG, i.cmdSn++, i.expStatSn,
                Unpooled.wrappedBuffer(new byte[40000])));
        assertTrue(i.target.isOpen());
        i.send(new NopOut(false, 0, i.nextItt(), IscsiPdu.RESERVED_TAG, i.cmdSn++, i.expStatSn,
                Unpooled.wrappedBuffer(new byte[40000])));
        assertFalse(i.target.isOpen(), "80000 bytes of pings queued out of order: beyond max_unsolicited_bytes");
    }

    @Test
    void readsWaitWhileThePeerDoesNotReadAndRunWhenItDoes() {
        TestInitiator i = connect();
        i.loginNormal(TARGET);
        FakeScsiSession session = core.sessions.get(0);
        int before = session.log.size();
        // the peer stops reading: Netty's write buffer goes above its high water mark
        i.target.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        i.target.runPendingTasks(); // Netty fires the writability change as a task
        assertFalse(i.target.config().isAutoRead(), "no more PDUs are read from a peer that does not read");
        for (int n = 0; n < 4; n++) {
            i.send(command(i, rw10(0x28, n, 1), true, false, 512, null, true));
        }
        assertEquals(before, session.log.size(), "no read reaches the core while the socket takes nothing");
        assertTrue(i.receiveAll().isEmpty());
        i.target.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        i.target.runPendingTasks();
        assertTrue(i.target.config().isAutoRead());
        assertEquals(List.of(0, 0, 0, 0), statuses(i.receiveAll()), "all four answered, in order, once it reads");
    }

    @Test
    void aTaskManagementFunctionFirstHandsTheHeldCommandsToTheCore() {
        TestInitiator i = connect();
        i.loginNormal(TARGET);
        FakeScsiSession session = core.sessions.get(0);
        int before = session.log.size();
        i.target.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        i.target.runPendingTasks();
        ScsiCommand read = command(i, rw10(0x28, 0, 1), true, false, 512, null, true);
        i.send(read);
        assertEquals(before, session.log.size(), "held while the peer does not read");
        i.send(new TaskManagementRequest(true, 1, 0, 0x77, read.itt(), i.cmdSn, i.expStatSn, read.cmdSn(), 0));
        assertEquals(List.of("28", "TMF ABORT_TASK"), session.log.subList(before, session.log.size()),
                "the core knows the READ before the ABORT TASK naming it (SAM-5 7.1)");
        i.target.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        i.target.runPendingTasks();
        i.receiveAll().forEach(ReferenceCountUtil::release);
    }

    @Test
    void readDataInFlightIsBoundedByMaxDataInBytes() {
        limit(TpgLimit.MAX_DATA_IN_BYTES, 65536);
        ArrayDeque<Runnable> completions = new ArrayDeque<>();
        core.completionExecutor = (Executor) completions::add;
        TestInitiator i = connect();
        i.loginNormal(TARGET);
        FakeScsiSession session = core.sessions.get(0);
        int before = session.log.size();
        for (int n = 0; n < 5; n++) { // 32 KiB each: two fit in 64 KiB
            i.send(command(i, rw10(0x28, n * 64, 64), true, false, 32768, null, true));
        }
        i.send(command(i, new byte[6], false, false, 0, null, true)); // TEST UNIT READY waits its turn
        assertEquals(before + 2, session.log.size(), "the core got two reads; the rest wait, in order");
        int answered = 0;
        int answeredReads = 0;
        while (!completions.isEmpty()) {
            completions.poll().run();
            i.target.runPendingTasks();
            List<IscsiPdu> pdus = i.receiveAll();
            answeredReads += (int) pdus.stream().filter(p -> p instanceof DataIn d && d.statusPresent()).count();
            answered += statuses(pdus).size();
            long submittedReads = session.log.subList(before, session.log.size()).stream().filter("28"::equals).count();
            assertTrue(submittedReads - answeredReads <= 2, "never more than two reads in the core");
        }
        assertEquals(6, answered);
        assertEquals(List.of("28", "28", "28", "28", "28", "00"), session.log.subList(before, before + 6));
    }
}
