package org.jtarget.iscsi.internal.session;

import static org.jtarget.iscsi.internal.testing.TestInitiator.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.jtarget.iscsi.internal.login.Chap;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.testing.FakeScsiSession;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Session identity (RFC 7143 §6.3.5, §11.12.5): nothing about an established session changes because another
 * connection sends a Login Request, until that login has passed its security stage, and then only when it has
 * the same InitiatorName, ISID and TPG (session reinstatement). Regression tests for the pre-authentication
 * session kill: a Login Request with the victim's TSIH and ISID used to terminate the victim's session at once.
 */
class SessionIdentityTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:unit";
    private static final String ATTACKER = "iqn.2026-11.org.example:attacker";
    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 1, TestInitiator.PORTAL, 64);
    private final SessionRegistry registry = new SessionRegistry();
    private final TestInitiator victim = new TestInitiator(core, registry);
    private final TestInitiator peer = new TestInitiator(core, registry);
    private int victimTsih;

    @BeforeEach
    void victimLogsIn() {
        LoginResponse security = victim.login(true, 0, 1, "InitiatorName=" + TestInitiator.INITIATOR,
                "TargetName=" + TARGET, "AuthMethod=None");
        security.release();
        LoginResponse last = victim.login(true, 1, 3);
        assertEquals(0, last.statusClass(), () -> "victim login: " + last);
        victimTsih = last.tsih();
        last.release();
        assertTrue(victimTsih != 0);
    }

    @AfterEach
    void close() {
        victim.close();
        peer.close();
    }

    /** The victim's session is open and answers a ping, its SCSI session was never closed. */
    private void assertVictimUntouched() {
        assertTrue(victim.target.isActive(), "the victim's connection is open");
        FakeScsiSession session = core.sessions.get(0);
        assertFalse(session.closed, "the victim's SCSI session (I_T nexus) is open");
        victim.send(new NopOut(true, 0, victim.nextItt(), IscsiPdu.RESERVED_TAG, victim.cmdSn, victim.expStatSn,
                null));
        victim.receive(NopIn.class).release();
    }

    private LoginResponse peerLogin(boolean transit, int csg, int nsg, long isid, int tsih, String... keys) {
        peer.send(new LoginRequest(transit, false, csg, nsg, 0, 0, isid, tsih, peer.nextItt(), 1, 1, 0, text(keys)));
        return peer.receive(LoginResponse.class);
    }

    private static int status(LoginResponse response) {
        return response.statusClass() << 8 | response.statusDetail();
    }

    @Test
    void loginNamingTheVictimsTsihAndIsidWithAnotherNameLeavesTheVictimAlone() {
        LoginResponse response = peerLogin(true, 0, 1, TestInitiator.ISID, victimTsih, "InitiatorName=" + ATTACKER,
                "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(0x020a, status(response), "Session Does Not Exist");
        response.release();
        assertFalse(peer.target.isActive());
        assertVictimUntouched();
    }

    @Test
    void loginNamingTheVictimsTsihIsidAndNameLeavesTheVictimAloneBeforeAuthentication() {
        // An unauthenticated claim of the victim's own name changes nothing either: it is only a claim.
        LoginResponse response = peerLogin(false, 0, 1, TestInitiator.ISID, victimTsih,
                "InitiatorName=" + TestInitiator.INITIATOR, "TargetName=" + TARGET, "AuthMethod=CHAP");
        assertEquals(0x020a, status(response));
        response.release();
        assertVictimUntouched();
    }

    @Test
    void loginNamingAnUnknownTsihLeavesTheVictimAlone() {
        LoginResponse response = peerLogin(true, 0, 1, 0x400000000042L, (victimTsih + 1) & 0xffff,
                "InitiatorName=" + ATTACKER, "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(0x020a, status(response));
        response.release();
        assertVictimUntouched();
    }

    @Test
    void newSessionOfAnotherInitiatorWithTheSameIsidLeavesTheVictimAlone() {
        // The ISID alone is not an identity: another InitiatorName with the same ISID is another I_T nexus.
        LoginResponse security = peerLogin(true, 0, 1, TestInitiator.ISID, 0, "InitiatorName=" + ATTACKER,
                "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(0, status(security));
        security.release();
        peer.expStatSn = security.statSn() + 1;
        LoginResponse last = peerLogin(true, 1, 3, TestInitiator.ISID, 0);
        assertEquals(0, status(last));
        last.release();
        assertTrue(peer.target.isActive());
        assertVictimUntouched();
        assertEquals(2, registry.size());
    }

    @Test
    void reinstatementThatFailsChapLeavesTheVictimAlone() {
        tpg.acl = Map.of(TestInitiator.INITIATOR, new InitiatorAccess(true,
                Optional.of(new ChapCredentials("host1", "secret-of-16-chars", null, null))));
        LoginResponse offer = peerLogin(false, 0, 1, TestInitiator.ISID, 0, "InitiatorName=" + TestInitiator.INITIATOR,
                "TargetName=" + TARGET, "AuthMethod=CHAP");
        assertEquals(0, status(offer));
        offer.release();
        LoginResponse challenge = peerLogin(false, 0, 1, TestInitiator.ISID, 0, "CHAP_A=5");
        assertEquals(0, status(challenge));
        challenge.release();
        LoginResponse verdict = peerLogin(true, 0, 1, TestInitiator.ISID, 0, "CHAP_N=host1",
                "CHAP_R=" + Chap.encode(new byte[16]));
        assertEquals(0x0201, status(verdict), "Authentication Failure");
        verdict.release();
        assertFalse(peer.target.isActive());
        assertVictimUntouched();
    }

    @Test
    void reinstatementByTheSameInitiatorAfterAuthenticationReplacesTheOldSession() {
        // The legitimate case (§6.3.5): same InitiatorName and ISID, TSIH 0, security stage passed.
        LoginResponse security = peerLogin(true, 0, 1, TestInitiator.ISID, 0,
                "InitiatorName=" + TestInitiator.INITIATOR, "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(0, status(security));
        security.release();
        assertTrue(victim.target.isActive(), "nothing changes before the login completes");
        LoginResponse last = peerLogin(true, 1, 3, TestInitiator.ISID, 0);
        assertEquals(0, status(last));
        last.release();
        assertFalse(victim.target.isActive(), "the old connection is closed");
        assertTrue(core.sessions.get(0).closed);
        assertFalse(core.sessions.get(1).closed);
    }
}
