package org.jtarget.iscsi.internal.login;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.junit.jupiter.api.Test;

/** Login stages and CHAP (RFC 7143 §6.3, §12.1.3), without a channel. */
class LoginNegotiatorTest {
    private static final InetSocketAddress PORTAL = new InetSocketAddress("127.0.0.1", 3260);
    private static final String TARGET = "iqn.2026-11.org.jtarget:t1";
    private static final String INITIATOR = "iqn.2026-11.org.example:host";
    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 7, PORTAL, 16);
    private final List<String> log = new ArrayList<>();
    private final LoginNegotiator login = new LoginNegotiator(core, "iscsi", PORTAL, new SecureRandom(), log::add);

    private LoginReply send(boolean transit, int csg, int nsg, String... pairs) {
        StringBuilder sb = new StringBuilder();
        for (String p : pairs) {
            sb.append(p).append('\0');
        }
        LoginRequest request = new LoginRequest(transit, false, csg, nsg, 0, 0, 0x23d000000001L, 0, 1, 1, 10, 0,
                Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8));
        try {
            return login.process(request);
        } finally {
            request.release();
        }
    }

    private static Map<String, String> keys(LoginReply reply) {
        Map<String, String> m = new LinkedHashMap<>();
        reply.keys().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    private void requireChap(boolean mutual) {
        tpg.acl = Map.of(INITIATOR, new InitiatorAccess(true, Optional.of(mutual
                ? new ChapCredentials("alice", "alice-secret", "target", "target-secret")
                : new ChapCredentials("alice", "alice-secret", null, null))));
    }

    @Test
    void noAuthenticationThenOperationalThenFullFeature() {
        LoginReply first = send(true, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET,
                "SessionType=Normal", "AuthMethod=None");
        assertEquals(LoginStatus.SUCCESS, first.status());
        assertEquals("7", keys(first).get("TargetPortalGroupTag"), "§13.9: TPGT in the first response");
        assertEquals("None", keys(first).get("AuthMethod"));
        assertTrue(first.transit());
        assertEquals(1, first.nsg());
        LoginReply second = send(true, 1, 3, "HeaderDigest=CRC32C,None", "MaxRecvDataSegmentLength=65536",
                "X-com.example.Vendor=1", "MaxBurstLength=131072");
        assertTrue(second.complete());
        Map<String, String> k = keys(second);
        assertEquals("CRC32C", k.get("HeaderDigest"));
        assertEquals("NotUnderstood", k.get("X-com.example.Vendor"));
        assertEquals("131072", k.get("MaxBurstLength"));
        assertEquals("262144", k.get("MaxRecvDataSegmentLength"), "we declare what we accept");
        assertEquals(65536, login.parameters().initiatorMaxRecvDataSegmentLength());
        assertEquals(10, login.initialCmdSn());
    }

    /** Found by LoginFuzzTest: the Reject and our own declaration made MaxRecvDataSegmentLength appear twice. */
    @Test
    void invalidMaxRecvDataSegmentLengthIsAnsweredOnceAndOursDeclaredNext() {
        send(true, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "AuthMethod=None");
        LoginReply first = send(false, 1, 3, "MaxRecvDataSegmentLength=0");
        assertEquals(List.of(Map.entry("MaxRecvDataSegmentLength", "Reject")), first.keys(),
                "§6.1: each key at most once per response");
        LoginReply second = send(true, 1, 3);
        assertEquals(List.of(Map.entry("MaxRecvDataSegmentLength", "262144")), second.keys());
        assertEquals(8192, login.parameters().initiatorMaxRecvDataSegmentLength(), "the RFC default stays");
    }

    @Test
    void tpgParametersChangeWhatWeDeclare() {
        tpg.parameters.put("MaxRecvDataSegmentLength", "16384");
        send(true, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "AuthMethod=None");
        LoginReply op = send(true, 1, 3, "MaxRecvDataSegmentLength=65536");
        assertEquals("16384", keys(op).get("MaxRecvDataSegmentLength"));
        assertEquals(16384, login.parameters().targetMaxRecvDataSegmentLength());
    }

    @Test
    void unknownTargetIsNotFound() {
        assertEquals(LoginStatus.NOT_FOUND, send(true, 0, 1, "InitiatorName=" + INITIATOR,
                "TargetName=iqn.2026-11.org.jtarget:nope", "AuthMethod=None").status());
    }

    @Test
    void initiatorWithoutAclIsUnauthorized() {
        tpg.acl = Map.of("iqn.2026-11.org.example:someone-else", InitiatorAccess.OPEN);
        LoginReply reply = send(true, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(LoginStatus.AUTHORIZATION_FAILURE, reply.status());
        assertEquals(0x02, reply.status().statusClass());
        assertEquals(0x02, reply.status().detail());
    }

    @Test
    void missingKeysAndBadVersionsFail() {
        assertEquals(LoginStatus.MISSING_PARAMETER, send(true, 0, 1, "TargetName=" + TARGET).status());
        LoginNegotiator other = new LoginNegotiator(core, "iscsi", PORTAL, new SecureRandom(), log::add);
        LoginRequest v1 = new LoginRequest(true, false, 0, 1, 2, 1, 1, 0, 1, 1, 1, 0, null);
        assertEquals(LoginStatus.UNSUPPORTED_VERSION, other.process(v1).status());
    }

    @Test
    void discoverySessionNeedsNoTarget() {
        LoginReply reply = send(true, 1, 3, "InitiatorName=" + INITIATOR, "SessionType=Discovery");
        assertTrue(reply.complete());
        assertTrue(login.discovery());
        assertFalse(keys(reply).containsKey("TargetPortalGroupTag"));
    }

    /** Runs CHAP up to the challenge; returns CHAP_I and CHAP_C. */
    private String[] chapChallenge() {
        LoginReply first = send(false, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET,
                "AuthMethod=CHAP,None");
        assertEquals("CHAP", keys(first).get("AuthMethod"));
        assertFalse(first.transit());
        LoginReply second = send(false, 0, 1, "CHAP_A=7,5");
        Map<String, String> k = keys(second);
        assertEquals("5", k.get("CHAP_A"));
        assertTrue(k.get("CHAP_C").startsWith("0x"));
        return new String[] {k.get("CHAP_I"), k.get("CHAP_C")};
    }

    private static String answer(String[] challenge, String secret) {
        return Chap.encode(Chap.response(Integer.parseInt(challenge[0]), secret, Chap.decode(challenge[1])));
    }

    @Test
    void oneWayChapSucceedsWithTheRightSecret() {
        requireChap(false);
        String[] challenge = chapChallenge();
        LoginReply reply = send(true, 0, 1, "CHAP_N=alice", "CHAP_R=" + answer(challenge, "alice-secret"));
        assertEquals(LoginStatus.SUCCESS, reply.status());
        assertTrue(reply.transit());
        assertTrue(send(true, 1, 3).complete());
    }

    @Test
    void chapFailsWithAWrongSecretOrName() {
        requireChap(false);
        String[] challenge = chapChallenge();
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE,
                send(true, 0, 1, "CHAP_N=alice", "CHAP_R=" + answer(challenge, "wrong-secret")).status());
        LoginNegotiator again = new LoginNegotiator(core, "iscsi", PORTAL, new SecureRandom(), log::add);
        assertTrue(log.stream().anyMatch(l -> l.contains("wrong name or secret")), log.toString());
        assertFalse(again.discovery());
    }

    @Test
    void chapRequiredButInitiatorOffersOnlyNone() {
        requireChap(false);
        LoginReply reply = send(true, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "AuthMethod=None");
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, reply.status());
        assertEquals("Reject", keys(reply).get("AuthMethod"));
    }

    @Test
    void chapRequiredButSecurityStageSkipped() {
        requireChap(false);
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE,
                send(true, 1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET).status());
    }

    @Test
    void chapWithoutMd5Fails() {
        requireChap(false);
        send(false, 0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "AuthMethod=CHAP");
        LoginReply reply = send(false, 0, 1, "CHAP_A=6,7");
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, reply.status());
    }

    @Test
    void mutualChapAnswersTheInitiatorsChallenge() {
        requireChap(true);
        String[] challenge = chapChallenge();
        byte[] mine = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        LoginReply reply = send(true, 0, 1, "CHAP_N=alice", "CHAP_R=" + answer(challenge, "alice-secret"),
                "CHAP_I=77", "CHAP_C=" + Chap.encode(mine));
        assertEquals(LoginStatus.SUCCESS, reply.status());
        Map<String, String> k = keys(reply);
        assertEquals("target", k.get("CHAP_N"));
        assertArrayEquals(Chap.response(77, "target-secret", mine), Chap.decode(k.get("CHAP_R")));
    }

    @Test
    void mutualChapRefusesAReflectedChallenge() {
        requireChap(true);
        String[] challenge = chapChallenge();
        LoginReply reply = send(true, 0, 1, "CHAP_N=alice", "CHAP_R=" + answer(challenge, "alice-secret"),
                "CHAP_I=" + challenge[0], "CHAP_C=" + challenge[1]);
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, reply.status());
    }

    @Test
    void mutualChapAskedButNotConfigured() {
        requireChap(false);
        String[] challenge = chapChallenge();
        LoginReply reply = send(true, 0, 1, "CHAP_N=alice", "CHAP_R=" + answer(challenge, "alice-secret"),
                "CHAP_I=1", "CHAP_C=0x0102030405060708");
        assertEquals(LoginStatus.AUTHENTICATION_FAILURE, reply.status());
    }

    @Test
    void chapValuesInBase64AreUnderstood() {
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), Chap.decode("0bYWJj"));
        assertArrayEquals(new byte[] {0x0a, (byte) 0xbc}, Chap.decode("0xabc"));
    }

    /** Found by LoginFuzzTest: while the first request's text was continued, its ISID could still change. */
    @Test
    void identityChangeAfterAContinuedFirstRequestFails() {
        LoginRequest part = new LoginRequest(false, true, 0, 1, 0, 0, 0x23d000000001L, 0, 1, 1, 10, 0,
                Unpooled.copiedBuffer("InitiatorName=" + INITIATOR + "\0", StandardCharsets.UTF_8));
        assertEquals(LoginStatus.SUCCESS, login.process(part).status());
        part.release();
        LoginRequest rest = new LoginRequest(true, false, 0, 1, 0, 0, 0x23d000000002L, 0, 2, 1, 10, 0,
                Unpooled.copiedBuffer("TargetName=" + TARGET + "\0AuthMethod=None\0", StandardCharsets.UTF_8));
        LoginReply reply = login.process(rest);
        rest.release();
        assertEquals(LoginStatus.INITIATOR_ERROR, reply.status(), "§11.12: ISID, TSIH and CID stay the same");
    }

    @Test
    void textContinuedOverTwoRequestsIsJoined() {
        byte[] all = ("InitiatorName=" + INITIATOR + "\0TargetName=" + TARGET + "\0AuthMethod=None\0")
                .getBytes(StandardCharsets.UTF_8);
        int cut = 20; // in the middle of the TargetName pair
        LoginReply ack = login.process(new LoginRequest(false, true, 0, 1, 0, 0, 1, 0, 1, 1, 10, 0,
                Unpooled.wrappedBuffer(all, 0, cut)));
        assertEquals(LoginStatus.SUCCESS, ack.status());
        assertTrue(ack.keys().isEmpty(), "an empty acknowledgement (§11.12.2)");
        LoginReply reply = login.process(new LoginRequest(true, false, 0, 1, 0, 0, 1, 0, 1, 1, 10, 0,
                Unpooled.wrappedBuffer(all, cut, all.length - cut)));
        assertEquals(LoginStatus.SUCCESS, reply.status());
        assertEquals("7", keys(reply).get("TargetPortalGroupTag"));
        assertTrue(reply.transit());
    }
}
