package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Session identity against the started distribution (RFC 7143 §6.3.5, §11.12.5): two real sessions (two
 * initiators, each writing its own pattern) stay untouched by a login that names an existing TSIH with another
 * initiator's name, an unknown TSIH, the victim's own TSIH, ISID and name before authenticating, or a
 * reinstatement that fails CHAP. Only an authenticated login with the same InitiatorName and ISID replaces a
 * session. Before the fix, the first Login Request with a live session's TSIH and ISID terminated that session.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionIdentityIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String HOST_A = "iqn.2026-12.org.example:host-a";
    private static final String HOST_B = "iqn.2026-12.org.example:host-b";
    private static final String ATTACKER = "iqn.2026-12.org.example:attacker";
    private static final long ISID_A = 0x023d00000001L;
    private static final long ISID_B = 0x023d00000002L;
    private static final String CHAP_IQN = "iqn.2026-12.org.jtarget:identity-chap";
    private static final String CHAP_USER = "host-a";
    private static final String CHAP_SECRET = "identitySecret1";
    private static final int BLOCK = 512;

    private JtargetInstance jtarget;
    private String chapPortal;
    private IscsiClient a;
    private IscsiClient b;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("identity");
        jtarget.start();
        int port = JtargetInstance.freePort();
        chapPortal = "127.0.0.1:" + port;
        jtarget.createChapTarget(CHAP_IQN, "identitychap", HOST_A, CHAP_USER, CHAP_SECRET, chapPortal);
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @BeforeEach
    void twoSessions() throws IOException {
        a = session(HOST_A, ISID_A, 100, (byte) 0xa1);
        b = session(HOST_B, ISID_B, 200, (byte) 0xb2);
    }

    @AfterEach
    void closeSessions() throws IOException {
        for (IscsiClient c : new IscsiClient[] {a, b}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private IscsiClient connect(int port) throws IOException {
        return IscsiClient.connect("127.0.0.1", port, TIMEOUT);
    }

    /** A logged-in session on the default target that wrote {@code pattern} to 8 blocks at {@code lba}. */
    private IscsiClient session(String name, long isid, int lba, byte pattern) throws IOException {
        IscsiClient c = connect(jtarget.port());
        Pdu login = c.login(name, isid, DEFAULT_IQN);
        assertEquals(0, login.loginStatus(), () -> name + " login status 0x" + Integer.toHexString(login.loginStatus()));
        IscsiClient.Result ready = c.testUnitReady(0);
        assertTrue(ready.good(), () -> name + " TEST UNIT READY: " + ready);
        byte[] data = new byte[8 * BLOCK];
        Arrays.fill(data, pattern);
        IscsiClient.Result write = c.write10(0, lba, data, BLOCK, true);
        assertTrue(write.good(), () -> name + " FUA write: " + write);
        return c;
    }

    /** The session still answers a ping and reads back the pattern it wrote. */
    private static void assertWorks(IscsiClient c, int lba, byte pattern) throws IOException {
        assertArrayEquals("alive".getBytes(), c.ping("alive".getBytes()), "NOP-In echo");
        IscsiClient.Result read = c.read10(0, lba, 8, BLOCK);
        assertTrue(read.good(), () -> "READ: " + read);
        byte[] expected = new byte[8 * BLOCK];
        Arrays.fill(expected, pattern);
        assertArrayEquals(expected, read.data(), "the pattern the session wrote");
    }

    private void assertBothSessionsWork() throws IOException {
        assertWorks(a, 100, (byte) 0xa1);
        assertWorks(b, 200, (byte) 0xb2);
    }

    /** One Login Request naming {@code tsih}; asserts Session Does Not Exist (0x020a) and the close. */
    private void loginNamingTsih(String name, long isid, int tsih) throws IOException {
        try (IscsiClient peer = connect(jtarget.port())) {
            Pdu response = peer.loginRequest(true, 0, 1, isid, tsih, List.of("InitiatorName=" + name,
                    "SessionType=Normal", "TargetName=" + DEFAULT_IQN, "AuthMethod=None"));
            assertEquals(0x020a, response.loginStatus(), "Session Does Not Exist");
            assertTrue(peer.closedByTarget(), "the target ends a failed login's connection");
        }
    }

    @Test
    void loginWithAnotherInitiatorsTsihAndIsidLeavesBothSessionsWorking() throws IOException {
        loginNamingTsih(ATTACKER, ISID_A, a.tsih());
        loginNamingTsih(HOST_B, ISID_A, a.tsih()); // the other victim's name, A's session handle
        assertBothSessionsWork();
    }

    @Test
    void unauthenticatedLoginWithTheVictimsOwnTsihIsidAndNameLeavesItWorking() throws IOException {
        loginNamingTsih(HOST_A, ISID_A, a.tsih());
        assertBothSessionsWork();
    }

    @Test
    void loginWithAnUnknownTsihLeavesBothSessionsWorking() throws IOException {
        int unknown = 1;
        while (unknown == a.tsih() || unknown == b.tsih()) {
            unknown++;
        }
        loginNamingTsih(ATTACKER, 0x400000000077L, 0xfff0);
        loginNamingTsih(ATTACKER, ISID_B, unknown);
        assertBothSessionsWork();
    }

    @Test
    void reinstatementThatFailsChapLeavesTheChapSessionWorking() throws IOException {
        int port = Integer.parseInt(chapPortal.substring(chapPortal.indexOf(':') + 1));
        try (IscsiClient victim = connect(port); IscsiClient peer = connect(port)) {
            Pdu ok = victim.loginChap(HOST_A, ISID_A, CHAP_IQN, CHAP_USER, CHAP_SECRET);
            assertEquals(0, ok.loginStatus(), "CHAP login of the victim");
            assertTrue(victim.testUnitReady(0).good());
            byte[] data = new byte[8 * BLOCK];
            Arrays.fill(data, (byte) 0xc3);
            assertTrue(victim.write10(0, 10, data, BLOCK, true).good());
            // Same InitiatorName and ISID, TSIH 0 (a reinstatement), but the wrong secret.
            Pdu refused = peer.loginChap(HOST_A, ISID_A, CHAP_IQN, CHAP_USER, "wrongSecret-123");
            assertEquals(0x0201, refused.loginStatus(), "Authentication Failure");
            assertWorks(victim, 10, (byte) 0xc3);
        }
        assertBothSessionsWork();
    }

    @Test
    void authenticatedReinstatementBySameInitiatorReplacesOnlyItsOwnSession() throws IOException {
        try (IscsiClient again = connect(jtarget.port())) {
            Pdu login = again.login(HOST_A, ISID_A, DEFAULT_IQN);
            assertEquals(0, login.loginStatus());
            assertTrue(a.closedByTarget(), "the reinstated session's old connection is closed (§6.3.5)");
            assertTrue(again.testUnitReady(0).good());
            assertWorks(again, 100, (byte) 0xa1);
            assertWorks(b, 200, (byte) 0xb2);
        }
    }
}
