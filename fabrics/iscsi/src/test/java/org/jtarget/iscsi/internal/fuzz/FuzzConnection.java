package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtarget.iscsi.internal.codec.Crc32c;
import org.jtarget.iscsi.internal.login.Chap;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.jtarget.iscsi.internal.session.SessionRegistry;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;

/**
 * One target connection (IscsiConnection behind the real codec on an EmbeddedChannel, fake core) driven by a
 * fuzz property: sends PDUs or bytes, keeps what a real initiator would learn from the answers (CHAP
 * challenge, R2T, text continuation tag, digests in force), and checks the outcome of every input
 * (RFC 7143): an answer, a closed connection, or, when neither, an open connection that still answers a
 * NOP-Out ping (§11.18). Everything the target allocates comes from a {@link TrackingAllocator}.
 */
final class FuzzConnection implements AutoCloseable {
    static final String TARGET = "iqn.2026-12.org.jtarget:fuzz";
    static final String USER = "fuzz-user";
    static final String SECRET = "fuzz-secret-12";
    static final String MUTUAL_USER = "fuzz-target";
    static final String MUTUAL_SECRET = "fuzz-mutual-secret";
    private static final int PING_ITT_BASE = 0x7e000000;

    /** What the TPG's access control says about our initiator. */
    enum Access {
        OPEN, CHAP_OPTIONAL, CHAP_REQUIRED, MUTUAL_REQUIRED, DENIED
    }

    /** Another initiator, logged in to the same target, that no input of the fuzzed connection may harm. */
    static final String BYSTANDER = "iqn.2026-12.org.example:bystander";

    final FakeTargetCore core;
    final FakeTargetCore.FakeTpg tpg;
    final SessionRegistry registry;
    final TestInitiator initiator;
    final TrackingAllocator alloc = new TrackingAllocator();
    private final boolean ownsCore;
    private final List<String> transcript = new ArrayList<>();

    boolean fullFeature;
    int chapId = -1;
    /** Whether a CHAP_N/CHAP_R pair that answers the last challenge correctly was sent. */
    boolean sentValidChap;
    /** Status class and detail of the last Login Response (§11.13.5), for statistics. */
    String lastLoginStatus = "no Login Response";
    byte[] chapChallenge = new byte[16];
    ReadyToTransfer lastR2t;
    int lastItt = 1;
    /** MaxCmdSN - ExpCmdSN + 1 of the final Login Response: the command window with nothing in flight. */
    int fullWindow = -1;
    int lastTextTtt = IscsiPdu.RESERVED_TAG;
    /** The TTT of the last NOP-In ping the target sent (§11.19), to be answered by a NOP-Out. */
    int lastTargetPing = IscsiPdu.RESERVED_TAG;
    private Integer lastExpCmdSn;
    private int pings;

    FuzzConnection(Access access) {
        this(access, new FakeTargetCore(), new SessionRegistry());
    }

    /** A second connection to the same target and fabric (its own allocator and checks). */
    FuzzConnection(FuzzConnection other) {
        this(Access.OPEN, other.core, other.registry);
    }

    private FuzzConnection(Access access, FakeTargetCore core, SessionRegistry registry) {
        this.core = core;
        this.registry = registry;
        this.ownsCore = core.tpgs.isEmpty();
        this.tpg = core.tpgs.isEmpty() ? core.addTarget(TARGET, 1, TestInitiator.PORTAL, 64) : core.tpgs.get(0);
        this.initiator = new TestInitiator(core, registry);
        initiator.allocator(alloc);
        if (core.tpgs.get(0) != tpg || tpg.acl != null) {
            return; // the first connection set the access control
        }
        ChapCredentials oneWay = new ChapCredentials(USER, SECRET, null, null);
        ChapCredentials mutual = new ChapCredentials(USER, SECRET, MUTUAL_USER, MUTUAL_SECRET);
        InitiatorAccess ours = switch (access) {
            case OPEN -> InitiatorAccess.OPEN;
            case CHAP_OPTIONAL -> new InitiatorAccess(false, Optional.of(oneWay));
            case CHAP_REQUIRED -> new InitiatorAccess(true, Optional.of(oneWay));
            case MUTUAL_REQUIRED -> new InitiatorAccess(true, Optional.of(mutual));
            case DENIED -> null;
        };
        tpg.acl = ours == null ? Map.of(BYSTANDER, InitiatorAccess.OPEN)
                : Map.of(TestInitiator.INITIATOR, ours, BYSTANDER, InitiatorAccess.OPEN);
    }

    /** Logs in as {@link #BYSTANDER} (another ISID, AuthMethod None) to the full feature phase. */
    void loginBystander() {
        byte[] security = ("InitiatorName=" + BYSTANDER + "\0SessionType=Normal\0TargetName=" + TARGET
                + "\0AuthMethod=None\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange(new org.jtarget.iscsi.internal.pdu.LoginRequest(true, false, 0, 1, 0, 0, TestInitiator.ISID ^ 0x100,
                0, initiator.nextItt(), 1, initiator.cmdSn, initiator.expStatSn,
                alloc.copyOf(security, 0, security.length))).forEach(ReferenceCountUtil::release);
        exchange(new org.jtarget.iscsi.internal.pdu.LoginRequest(true, false, 1, 3, 0, 0, TestInitiator.ISID ^ 0x100,
                0, initiator.nextItt(), 1, initiator.cmdSn, initiator.expStatSn, null))
                .forEach(ReferenceCountUtil::release);
        assertTrue(fullFeature && !closed(), () -> "bystander login failed\n" + transcript());
    }

    boolean closed() {
        return !initiator.target.isOpen();
    }

    /** Sends a PDU (released by the codec); returns the target's answers, which the caller releases. */
    List<IscsiPdu> exchange(IscsiPdu pdu) {
        transcript.add("> " + pdu);
        initiator.send(pdu);
        return answers();
    }

    /**
     * Encodes a PDU, applies header mutations that keep the framing (never bytes 4-7: TotalAHSLength and
     * DataSegmentLength), recomputes a header digest in force, sends the bytes and returns the answers.
     */
    List<IscsiPdu> exchangeMutated(IscsiPdu pdu, List<Mutation> mutations) {
        String description = pdu.toString();
        ByteBuf wire = initiator.encode(pdu);
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes).release();
        int headerLength = 48 + (bytes[4] & 0xff) * 4;
        int dataStart = headerLength + (initiator.initiatorSettings.headerDigest() ? 4 : 0);
        for (Mutation m : mutations) {
            if (m.kind() == Mutation.Kind.FLIP_BIT && bytes.length > dataStart) {
                // in the data segment, its padding or its digest: a data digest error when digests are on
                bytes[dataStart + m.position() % (bytes.length - dataStart)] ^= (byte) (1 << (m.value() & 7));
                continue;
            }
            byte[] changed = m.apply(bytes);
            if (changed.length == bytes.length) {
                for (int i = 0; i < 48; i++) {
                    if (i < 4 || i > 7) {
                        bytes[i] = changed[i];
                    }
                }
            }
        }
        if (initiator.initiatorSettings.headerDigest()) {
            int crc = Crc32c.of(Unpooled.wrappedBuffer(bytes), 0, headerLength);
            for (int i = 0; i < 4; i++) {
                bytes[headerLength + i] = (byte) (crc >>> (8 * i));
            }
        }
        transcript.add("> mutated " + mutations + " of " + description);
        initiator.sendBytes(alloc.copyOf(bytes, 0, bytes.length));
        return answers();
    }

    /** Tells the connection the initiator has been silent for a while (IdleStateHandler's event). */
    List<IscsiPdu> idle() {
        transcript.add("> (reader idle)");
        initiator.target.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        return answers();
    }

    /** Everything the target sent; learns from it; none of it may be undecodable. */
    private List<IscsiPdu> answers() {
        initiator.target.checkException();
        List<IscsiPdu> answers = initiator.receiveAll();
        // §13.1: the digests negotiated apply after the final Login Response, which was sent without them
        initiator.initiatorSettings.headerDigest(initiator.targetSettings.headerDigest());
        initiator.initiatorSettings.dataDigest(initiator.targetSettings.dataDigest());
        try {
            for (IscsiPdu a : answers) {
                transcript.add("< " + a);
                if (a instanceof MalformedPdu bad) {
                    throw new AssertionError("the target sent a PDU its peer cannot decode: " + bad.message()
                            + "\n" + transcript());
                }
                learn(a);
            }
        } catch (RuntimeException | Error e) {
            answers.forEach(ReferenceCountUtil::release);
            throw e;
        }
        return answers;
    }

    /**
     * §4.2.2.1: ExpCmdSN never goes back, MaxCmdSN - ExpCmdSN + 1 stays within the window; §11.17.3: a Reject
     * carries the 48-byte header of the rejected PDU.
     */
    private void checkNumbering(IscsiPdu answer) {
        int[] sn = null;
        if (answer instanceof NopIn p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof ScsiResponsePdu p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof TaskManagementResponsePdu p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof LoginResponse p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof TextResponse p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof DataIn p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof LogoutResponse p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof ReadyToTransfer p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        } else if (answer instanceof Reject p) {
            sn = new int[] {p.expCmdSn(), p.maxCmdSn()};
        }
        if (answer instanceof Reject r) {
            assertEquals(48, r.data().readableBytes(), () -> "Reject data (expected: the rejected BHS)\n"
                    + transcript());
        }
        if (sn == null) {
            return;
        }
        int[] numbers = sn;
        if (lastExpCmdSn != null) {
            int before = lastExpCmdSn;
            assertTrue(before - numbers[0] <= 0, () -> "ExpCmdSN went back from " + before + " to " + numbers[0]
                    + "\n" + transcript());
        }
        lastExpCmdSn = numbers[0];
        int window = numbers[1] - numbers[0] + 1;
        assertTrue(window >= 0 && (fullWindow < 0 || window <= fullWindow), () -> "MaxCmdSN " + numbers[1]
                + " for ExpCmdSN " + numbers[0] + ": window " + window + " (expected: 0.." + fullWindow + ")\n"
                + transcript());
    }

    private void learn(IscsiPdu answer) {
        checkNumbering(answer);
        if (answer instanceof LoginResponse r) {
            initiator.expStatSn = r.statSn() + 1;
            lastLoginStatus = String.format("status 0x%02x%02x", r.statusClass(), r.statusDetail());
            if (r.statusClass() == 0 && r.transit() && r.nsg() == 3) {
                fullFeature = true;
                fullWindow = r.maxCmdSn() - r.expCmdSn() + 1;
            }
            try {
                Map<String, String> keys = TextCodec.parse(r.data());
                if (keys.containsKey("CHAP_I") && keys.containsKey("CHAP_C")) {
                    chapId = Chap.parseIdentifier(keys.get("CHAP_I"));
                    chapChallenge = Chap.decode(keys.get("CHAP_C"));
                }
            } catch (TextCodec.TextFormatException e) {
                throw new AssertionError("Login Response text: " + e.getMessage() + "\n" + transcript());
            }
        } else if (answer instanceof NopIn n && n.ttt() != IscsiPdu.RESERVED_TAG) {
            lastTargetPing = n.ttt();
        } else if (answer instanceof ReadyToTransfer r) {
            lastR2t = r;
        } else if (answer instanceof TextResponse t && t.continueFlag()) {
            lastTextTtt = t.ttt();
        }
    }

    /** The CHAP_R a real initiator would compute for the last challenge (RFC 7143 §12.1.3). */
    String chapResponse() {
        return Chap.encode(Chap.response(chapId < 0 ? 0 : chapId, SECRET, chapChallenge));
    }

    /**
     * The outcome of one input is defined: something was answered, or the connection is closed, or it is open
     * and answers a ping (then the input was one that legitimately gets no answer, e.g. a Data-Out, a command
     * waiting for its CmdSN turn, or a NOP-Out with the reserved ITT). Releases the answers.
     */
    void assertDefinedOutcome(List<IscsiPdu> answers) {
        boolean answered = !answers.isEmpty();
        answers.forEach(ReferenceCountUtil::release);
        if (!answered && !closed()) {
            assertPingAnswered();
        }
    }

    /** An open connection in the full feature phase answers a NOP-Out ping (§11.18); in login it closes (§6.3). */
    void assertPingAnswered() {
        int itt = PING_ITT_BASE + pings++;
        List<IscsiPdu> answers = exchange(new NopOut(true, 0, itt, IscsiPdu.RESERVED_TAG, initiator.cmdSn,
                initiator.expStatSn, null));
        boolean pong = answers.stream().anyMatch(a -> a instanceof NopIn n && n.itt() == itt);
        answers.forEach(ReferenceCountUtil::release);
        if (fullFeature) {
            assertTrue(pong && !closed(), () -> "open connection did not answer a ping (expected: NOP-In ITT 0x"
                    + Integer.toHexString(itt) + ")\n" + transcript());
        } else {
            assertTrue(pong || closed(), () -> "open connection neither answered a ping nor closed\n" + transcript());
        }
    }

    /**
     * After a LOGICAL UNIT RESET (RFC 7143 §11.5.1, function 5) has ended every task, the command window is
     * whole again (§4.2.2.1): no input may leave a command counted in flight for ever.
     */
    void assertFullWindowAfterReset() {
        List<IscsiPdu> reset = exchange(new TaskManagementRequest(true, 5, 0, initiator.nextItt(),
                IscsiPdu.RESERVED_TAG, initiator.cmdSn, initiator.expStatSn, initiator.cmdSn - 1, 0));
        boolean answered = reset.stream().anyMatch(a -> a instanceof TaskManagementResponsePdu);
        reset.forEach(ReferenceCountUtil::release);
        assertTrue(answered, () -> "LOGICAL UNIT RESET not answered\n" + transcript());
        int itt = PING_ITT_BASE + pings++;
        List<IscsiPdu> answers = exchange(new NopOut(true, 0, itt, IscsiPdu.RESERVED_TAG, initiator.cmdSn,
                initiator.expStatSn, null));
        try {
            NopIn pong = (NopIn) answers.stream().filter(a -> a instanceof NopIn n && n.itt() == itt).findFirst()
                    .orElseThrow(() -> new AssertionError("ping after reset unanswered\n" + transcript()));
            int window = pong.maxCmdSn() - pong.expCmdSn() + 1;
            assertEquals(fullWindow, window, () -> "command window after LOGICAL UNIT RESET: " + window
                    + " (expected: " + fullWindow + ")\n" + transcript());
        } finally {
            answers.forEach(ReferenceCountUtil::release);
        }
    }

    String transcript() {
        return String.join("\n", transcript.subList(Math.max(0, transcript.size() - 40), transcript.size()));
    }

    /** Closes the connection; every buffer the target or the inputs allocated must be released by then. */
    @Override
    public void close() {
        initiator.close();
        assertFalse(initiator.target.isOpen());
        alloc.assertAllReleased();
        if (ownsCore) { // closed last: every connection to this core is closed
            assertTrue(core.sessions.stream().allMatch(session -> session.closed),
                    () -> "a SCSI session outlived its connection\n" + transcript());
            assertEquals(0, registry.size(), () -> "sessions left in the registry\n" + transcript());
        }
    }
}
