package org.jtarget.iscsi.internal.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The guessing defence (RFC 7143 §9.2.1), on a clock the test moves. */
class LoginThrottleTest {
    private static final String X = "iqn.2026-11.org.example:x";
    private static final String Y = "iqn.2026-11.org.example:y";
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private final InetAddress a = address("192.0.2.1");
    private final InetAddress b = address("192.0.2.2");
    /** Negative on purpose: System.nanoTime may be. */
    private long now = -7 * SECOND;
    private final LoginThrottle throttle = new LoginThrottle(() -> now);

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no name lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private void fail(int times, String initiator, InetAddress from) {
        for (int i = 0; i < times; i++) {
            throttle.failed(initiator, from);
        }
    }

    @Test
    void freeFailuresThenABlockThatDoublesUpToTheCap() {
        fail(LoginThrottle.FREE_FAILURES, X, a);
        assertFalse(throttle.blocked(X, a), "a few mistakes are free");
        assertEquals(0, throttle.responseDelayNanos(X, a));
        long expected = SECOND;
        for (int round = 0; round < 10; round++) {
            throttle.failed(X, a);
            assertTrue(throttle.blocked(X, a), "round " + round);
            assertEquals(Math.min(expected, LoginThrottle.MAX_RESPONSE_DELAY_NANOS), throttle.responseDelayNanos(X, a));
            now += expected - 1;
            assertTrue(throttle.blocked(X, a), "still blocked just before the end, round " + round);
            now += 1;
            assertFalse(throttle.blocked(X, a), "free again at the end, round " + round);
            expected = Math.min(expected * 2, LoginThrottle.MAX_BLOCK_NANOS);
        }
        assertEquals(LoginThrottle.MAX_BLOCK_NANOS, expected, "10 rounds reach the cap");
    }

    @Test
    void failuresWhileBlockedDoNotLengthenTheBlock() {
        fail(LoginThrottle.FREE_FAILURES + 1, X, a);
        fail(50, X, a);
        now += SECOND;
        assertFalse(throttle.blocked(X, a), "50 refused attempts tested nothing: still the first 1 s block");
    }

    @Test
    void onlyTheFailingNameAndAddressAreBlocked() {
        fail(LoginThrottle.FREE_FAILURES + 1, X, a);
        assertTrue(throttle.blocked(X, a));
        assertTrue(throttle.blocked(Y, a), "the address, whatever name it claims");
        assertFalse(throttle.blocked(Y, b), "other initiators elsewhere are untouched");
        assertFalse(throttle.blocked(null, null));
    }

    @Test
    void failuresInAnInitiatorsNameFromElsewhereNeverLockItOut() {
        // Another peer failing in X's name (from b) must not keep X, at its own address a, from logging in.
        fail(3 * LoginThrottle.FREE_FAILURES, X, b);
        assertTrue(throttle.blocked(X, b), "the failing address is blocked");
        assertFalse(throttle.blocked(X, a), "the name alone never blocks");
        assertTrue(throttle.responseDelayNanos(X, a) > 0, "but failures in that name are answered late");
        assertEquals(0, throttle.responseDelayNanos(Y, a));
    }

    @Test
    void aProvenSecretOrFifteenQuietMinutesStartAfresh() {
        fail(LoginThrottle.FREE_FAILURES + 1, X, a);
        now += SECOND;
        throttle.succeeded(X, a);
        throttle.failed(X, a);
        assertFalse(throttle.blocked(X, a), "the count started again");

        fail(LoginThrottle.FREE_FAILURES + 1, Y, b);
        now += LoginThrottle.FORGET_NANOS + 1;
        throttle.failed(Y, b);
        assertFalse(throttle.blocked(Y, b), "forgotten after 15 minutes without failures");
    }

    @Test
    void theTableStaysBounded() {
        for (int i = 0; i < 3 * LoginThrottle.MAX_ENTRIES; i++) {
            throttle.failed("iqn.2026-11.org.example:guess" + i, null);
        }
        assertEquals(LoginThrottle.MAX_ENTRIES, throttle.size());
    }

    @Test
    void ipv6AddressesCountPerSlash64() {
        fail(LoginThrottle.FREE_FAILURES + 1, null, address("2001:db8::1"));
        assertTrue(throttle.blocked(null, address("2001:db8::ffff:2")), "same /64");
        assertFalse(throttle.blocked(null, address("2001:db8:0:1::1")), "another /64");
    }
}
