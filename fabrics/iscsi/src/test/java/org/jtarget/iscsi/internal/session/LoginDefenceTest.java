package org.jtarget.iscsi.internal.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jtarget.iscsi.internal.login.Chap;
import org.jtarget.iscsi.internal.login.LoginGuard;
import org.jtarget.iscsi.internal.login.LoginStatus;
import org.jtarget.iscsi.internal.login.LoginThrottle;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile logins through whole connections (EmbeddedChannel) sharing one fabric's {@link LoginGuard} on a
 * clock the test moves: guessing is throttled (RFC 7143 §9.2.1) without touching other initiators or
 * established sessions, network values are escaped and cut in log lines, floods are rate-limited, and no
 * secret ever reaches the log.
 */
class LoginDefenceTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:guarded";
    private static final String X = "iqn.2026-11.org.example:x";
    private static final String Y = "iqn.2026-11.org.example:y";
    private static final String X_SECRET = "Zq7-recognisable-x-secret";
    private static final String Y_SECRET = "Zq7-recognisable-y-secret";
    private static final String TARGET_SECRET = "Zq7-recognisable-t-secret";

    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 1, TestInitiator.PORTAL, 16);
    private long now = 1_000_000;
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final FabricContext fabric = new FabricContext(core, "iscsi", new SessionRegistry(), new SecureRandom(),
            LoginGuard.of(() -> now, log::add));
    private final List<TestInitiator> connections = new ArrayList<>();
    /** The text of every Login Response seen. */
    private final List<String> wire = new ArrayList<>();
    /** Whether the last {@link #chap} response came only after virtual time passed. */
    private boolean heldBack;

    LoginDefenceTest() {
        tpg.acl = Map.of(
                X, new InitiatorAccess(true, Optional.of(new ChapCredentials("x", X_SECRET, "t", TARGET_SECRET))),
                Y, new InitiatorAccess(true, Optional.of(new ChapCredentials("y", Y_SECRET, null, null))));
    }

    @AfterEach
    void closeAll() {
        connections.forEach(TestInitiator::close);
    }

    private TestInitiator connect() {
        TestInitiator t = new TestInitiator(fabric);
        connections.add(t);
        return t;
    }

    /**
     * CHAP up to the response with {@code secret}; returns the status of the last Login Response, letting
     * the channel's virtual time run past any delay the throttle asked for.
     */
    private LoginStatus chap(TestInitiator t, String initiator, String user, String secret) {
        LoginResponse first = t.login(false, 0, 1, "InitiatorName=" + initiator, "TargetName=" + TARGET,
                "SessionType=Normal", "AuthMethod=CHAP");
        seen(first);
        LoginResponse challenge = t.login(false, 0, 1, "CHAP_A=5");
        Map<String, String> k = seen(challenge);
        byte[] response = Chap.response(Integer.parseInt(k.get("CHAP_I")), secret, Chap.decode(k.get("CHAP_C")));
        t.send(new LoginRequest(true, false, 0, 1, 0, 0, TestInitiator.ISID, 0, t.nextItt(), 1, t.cmdSn,
                t.expStatSn, TestInitiator.text("CHAP_N=" + user, "CHAP_R=" + Chap.encode(response))));
        List<IscsiPdu> answer = t.receiveAll();
        heldBack = answer.isEmpty();
        if (heldBack) { // held back by the throttle: scheduled on the event loop, not slept
            t.target.advanceTimeBy(LoginThrottle.MAX_RESPONSE_DELAY_NANOS, TimeUnit.NANOSECONDS);
            answer = t.receiveAll();
        }
        assertEquals(1, answer.size(), answer::toString);
        LoginResponse last = (LoginResponse) answer.get(0);
        t.expStatSn = last.statSn() + 1;
        seen(last);
        for (LoginStatus s : LoginStatus.values()) {
            if (s.statusClass() == last.statusClass() && s.detail() == last.statusDetail()) {
                return s;
            }
        }
        throw new AssertionError("unknown status " + last);
    }

    /** Keeps the text of a response (to look for secrets in) and releases it; returns its keys. */
    private Map<String, String> seen(LoginResponse response) {
        String text = TestInitiator.text(response.data());
        wire.add(text);
        response.release();
        Map<String, String> keys = new HashMap<>();
        for (String pair : text.split("\n")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                keys.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return keys;
    }

    private String joinedLog() {
        return String.join("\n", log);
    }

    @Test
    void guessesInAnInitiatorsNameAreAnsweredLateButNeverLockItOutNorTouchOthers() {
        // EmbeddedChannel has no IP address: only the name is counted here (blocking by address and by name at
        // an address: LoginThrottleTest). Guesses in X's name from elsewhere must not lock X out.
        TestInitiator established = connect();
        assertEquals(LoginStatus.SUCCESS, chap(established, Y, "y", Y_SECRET));
        LoginResponse op = established.login(true, 1, 3);
        assertEquals(0, op.statusClass());
        op.release();

        for (int i = 0; i <= LoginThrottle.FREE_FAILURES; i++) {
            assertEquals(LoginStatus.AUTHENTICATION_FAILURE, chap(connect(), X, "x", "guess-number-" + i));
        }
        heldBack = false;
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, chap(connect(), X, "x", "guess-number-late"));
        assertTrue(heldBack, "a failure in a guessed-at name is answered late");

        assertEquals(LoginStatus.SUCCESS, chap(connect(), X, "x", X_SECRET), "the right secret still works at once");
        assertEquals(LoginStatus.SUCCESS, chap(connect(), Y, "y", Y_SECRET), "another initiator logs in");
        established.send(new NopOut(true, 0, 0x99, IscsiPdu.RESERVED_TAG, established.cmdSn, established.expStatSn,
                Unpooled.copiedBuffer("still here", StandardCharsets.US_ASCII)));
        NopIn pong = established.receive(NopIn.class);
        assertEquals(0x99, pong.itt(), "the established session goes on");
        pong.release();
    }

    @Test
    void aLongAuthMethodIsLoggedCutAndEscaped() {
        String value = "\u001b[2J\r\nFAKE" + "A".repeat(4000);
        LoginResponse r = connect().login(true, 0, 1, "InitiatorName=" + X, "TargetName=" + TARGET,
                "SessionType=Normal", "AuthMethod=" + value);
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE.detail(), r.statusDetail());
        r.release();
        assertEquals(1, log.size(), joinedLog());
        String line = log.get(0);
        assertTrue(line.length() < 300, () -> line.length() + " characters: " + line);
        assertTrue(line.contains("AuthMethod \"\\x1B[2J\\x0D\\x0AFAKEAAA"), line);
        assertTrue(line.matches(".*AAA\\.\\.\\.\\(\\d+ more\\)\" \\(expected: CHAP\\)"), line);
        assertFalse(line.contains("\n") || line.contains("\r") || line.contains("\u001b"), line);
    }

    @Test
    void aForgedLineInAnInitiatorNameStaysOnOneLine() {
        LoginResponse r = connect().login(true, 0, 1, "InitiatorName=" + X + "\n2026-12-07 INFO login of admin ok",
                "TargetName=" + TARGET, "SessionType=Normal", "AuthMethod=CHAP");
        assertEquals(LoginStatus.AUTHORIZATION_FAILURE.detail(), r.statusDetail());
        r.release();
        assertEquals(List.of("login of \"" + X + "\\x0A2026-12-07 INFO login of admin ok\" from ? failed:"
                + " AUTHORIZATION_FAILURE: not allowed into \"" + TARGET + "\""), log);
    }

    @Test
    void aFloodOfBadLoginsIsRateLimitedInTheLog() {
        for (int i = 0; i < 300; i++) {
            TestInitiator t = connect();
            LoginResponse r = t.login(true, 0, 1, "InitiatorName=iqn.2026-11.org.example:flood" + i,
                    "TargetName=" + TARGET, "SessionType=Normal", "AuthMethod=KRB5");
            r.release();
            t.close();
        }
        connections.clear();
        assertEquals(LoginGuard.LINES_PER_MINUTE, log.size(), joinedLog());
        now += TimeUnit.MINUTES.toNanos(1);
        LoginResponse r = connect().login(true, 0, 1, "InitiatorName=iqn.2026-11.org.example:flood-last",
                "TargetName=" + TARGET, "SessionType=Normal", "AuthMethod=KRB5");
        r.release();
        assertEquals((300 - LoginGuard.LINES_PER_MINUTE) + " similar messages suppressed (AUTHORIZATION_FAILURE)",
                log.get(LoginGuard.LINES_PER_MINUTE));
        assertEquals(LoginGuard.LINES_PER_MINUTE + 2, log.size());
    }

    @Test
    void aFloodOfBadPdusFromALoggedInPeerIsRateLimitedInTheLog() {
        TestInitiator t = connect();
        assertEquals(LoginStatus.SUCCESS, chap(t, Y, "y", Y_SECRET));
        LoginResponse op = t.login(true, 1, 3);
        assertEquals(0, op.statusClass());
        op.release();
        log.clear();
        for (int i = 0; i < 100; i++) { // a text without '=': each one is rejected (RFC 7143 §6.1)
            t.send(new TextRequest(true, true, false, 0, 100 + i, IscsiPdu.RESERVED_TAG, t.cmdSn, t.expStatSn,
                    TestInitiator.text("no-equals-sign-" + i)));
            Reject reject = t.receive(Reject.class);
            assertEquals(Reject.PROTOCOL_ERROR, reject.reason(), "every bad PDU is still answered");
            reject.release();
        }
        assertEquals(LoginGuard.LINES_PER_MINUTE, log.size(), joinedLog());
        assertTrue(log.get(0).startsWith("bad Text Request from"), joinedLog());
    }

    @Test
    void noSecretReachesTheLogOrTheWire() {
        chap(connect(), X, "x", "wrong-secret-123");
        chap(connect(), X, "intruder", X_SECRET);
        chap(connect(), X, "x", Y_SECRET);
        tpg.acl = Map.of(X, new InitiatorAccess(true,
                Optional.of(new ChapCredentials("x", X_SECRET, "t", X_SECRET)))); // a hand-edited configuration
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, chap(connect(), X, "x", X_SECRET),
                "RFC 7143 §9.2.1: equal secrets in both directions are refused");
        assertTrue(joinedLog().contains("mutual CHAP secret: same as the CHAP secret"), joinedLog());
        String all = joinedLog() + "\n" + String.join("\n", wire);
        for (String secret : List.of(X_SECRET, Y_SECRET, TARGET_SECRET, "Zq7")) {
            assertFalse(all.contains(secret), () -> secret + " leaked:\n" + all);
        }
    }
}
