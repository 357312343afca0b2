package org.jtarget.iscsi.internal.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Negotiation rules of RFC 7143 §6.2 and the key definitions of §13. */
class NegotiatorTest {
    private final List<String> warnings = new ArrayList<>();
    private final Negotiator defaults = new Negotiator(Map.of(), warnings::add);

    @Test
    void rfcDefaultsApplyToKeysNobodyOffers() {
        SessionParameters p = defaults.parameters();
        assertFalse(p.headerDigest());
        assertTrue(p.initialR2T());
        assertTrue(p.immediateData());
        assertEquals(8192, p.initiatorMaxRecvDataSegmentLength());
        assertEquals(262144, p.maxBurstLength());
        assertEquals(65536, p.firstBurstLength());
        assertEquals(1, p.maxOutstandingR2T());
        assertEquals(0, p.errorRecoveryLevel());
    }

    @Test
    void listPicksTheFirstOfferedValueWeSupport() {
        assertEquals("CRC32C", defaults.respond(OperationalKey.HEADER_DIGEST, "CRC32C,None"));
        assertEquals("None", defaults.respond(OperationalKey.DATA_DIGEST, "None,CRC32C"));
        SessionParameters p = defaults.parameters();
        assertTrue(p.headerDigest());
        assertFalse(p.dataDigest());
        Negotiator noDigest = new Negotiator(Map.of("HeaderDigest", "None"), warnings::add);
        assertEquals("None", noDigest.respond(OperationalKey.HEADER_DIGEST, "CRC32C,None"));
        assertEquals("Reject", noDigest.respond(OperationalKey.HEADER_DIGEST, "CRC32C"));
        assertEquals("Reject", defaults.respond(OperationalKey.DATA_DIGEST, "MD5"));
    }

    @Test
    void booleansCombineWithAndOrOr() {
        assertEquals("Yes", defaults.respond(OperationalKey.INITIAL_R2T, "Yes")); // OR
        assertEquals("No", new Negotiator(Map.of(), warnings::add).respond(OperationalKey.INITIAL_R2T, "No"));
        assertEquals("No", defaults.respond(OperationalKey.IMMEDIATE_DATA, "No")); // AND
        assertFalse(defaults.parameters().immediateData());
        Negotiator noImmediate = new Negotiator(Map.of("ImmediateData", "No"), warnings::add);
        assertEquals("No", noImmediate.respond(OperationalKey.IMMEDIATE_DATA, "Yes"));
        assertEquals("Reject", defaults.respond(OperationalKey.IMMEDIATE_DATA, "maybe"));
    }

    @Test
    void numbersTakeTheMinimumOrMaximum() {
        assertEquals("65536", defaults.respond(OperationalKey.MAX_BURST_LENGTH, "65536"));
        assertEquals("16776192", defaults.respond(OperationalKey.MAX_BURST_LENGTH, "16777215"));
        assertEquals("1", defaults.respond(OperationalKey.MAX_CONNECTIONS, "8"));
        assertEquals("0", defaults.respond(OperationalKey.ERROR_RECOVERY_LEVEL, "2"));
        assertEquals("5", defaults.respond(OperationalKey.DEFAULT_TIME2WAIT, "5")); // max
        assertEquals("2", defaults.respond(OperationalKey.DEFAULT_TIME2WAIT, "0"));
        assertEquals("Reject", defaults.respond(OperationalKey.MAX_BURST_LENGTH, "100")); // below 512
        assertEquals("Reject", defaults.respond(OperationalKey.MAX_BURST_LENGTH, "lots"));
    }

    @Test
    void firstBurstNeverExceedsMaxBurst() {
        defaults.respond(OperationalKey.MAX_BURST_LENGTH, "16384");
        defaults.respond(OperationalKey.FIRST_BURST_LENGTH, "65536");
        assertEquals(16384, defaults.parameters().firstBurstLength());
    }

    @Test
    void declarativeKeysAreRecordedNotAnswered() {
        assertNull(defaults.respond(OperationalKey.MAX_RECV_DATA_SEGMENT_LENGTH, "65536"));
        assertEquals(65536, defaults.parameters().initiatorMaxRecvDataSegmentLength());
        assertEquals(262144, defaults.parameters().targetMaxRecvDataSegmentLength());
        assertNull(defaults.respond(OperationalKey.MAX_BURST_LENGTH, "NotUnderstood"));
    }

    @Test
    void tpgParametersOverrideOurPreferencesAndBadOnesAreIgnored() {
        Negotiator n = new Negotiator(Map.of("MaxRecvDataSegmentLength", "8192", "MaxBurstLength", "huge",
                "SomethingElse", "1"), warnings::add);
        assertEquals("8192", n.ours(OperationalKey.MAX_RECV_DATA_SEGMENT_LENGTH));
        assertEquals(8192, n.parameters().targetMaxRecvDataSegmentLength());
        assertEquals("16776192", n.ours(OperationalKey.MAX_BURST_LENGTH));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("MaxBurstLength: huge"), warnings.get(0));
    }
}
