package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.jtarget.iscsi.internal.text.OperationalKey;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the login state machine (RFC 7143 §6.3, §11.12-13) of IscsiConnection: sequences of Login Requests
 * shaped like a real login (security stage with AuthMethod None or CHAP, operational stage, discovery) whose
 * flags (T, C, CSG, NSG), ISID/TSIH/CID, version, CmdSN and keys are generated or mutated, against TPGs
 * that are open, offer or require (mutual) CHAP, or refuse the initiator. Every request ends in a Login
 * Response or a closed connection; a failed login closes; a completed one answers pings.
 */
class LoginFuzzTest extends FuzzProperties {
    /**
     * One Login Request: a template of keys (0 security start, 1 CHAP_A, 2 CHAP_N/CHAP_R, 3 operational keys,
     * 4 discovery start, 5 none), choices for their values, extra pairs, a fault in the text, and the BHS.
     */
    record Step(int template, int[] choice, List<String[]> extra, int textFault, boolean randomFlags,
                int flags, int identity, int version, int cmdSnDelta) {
    }

    /** Templates of logins a real initiator makes (see {@link Step}), or (one in five) any sequence. */
    private static final List<List<Integer>> FLOWS = List.of(List.of(0, 3), List.of(0, 1, 2, 3), List.of(4, 3),
            List.of(0, 1, 2, 5), List.of(0, 5), List.of(0, 1, 2, 3, 3), List.of(3), List.of(0, 0, 3));

    static List<Step> login(Gen g) {
        List<Integer> flow = g.weighted(4, 1) == 0 ? g.pick(FLOWS) : g.list(1, 6, () -> g.between(0, 5));
        List<Step> steps = new ArrayList<>();
        for (int template : flow) {
            steps.add(step(g, template));
        }
        return steps;
    }

    private static Step step(Gen g, int template) {
        int[] choice = g.ints(8, () -> g.between(0, 99));
        // faults are rare enough that a good part of the logins get through (see the statistics printed)
        List<String[]> extra = g.weighted(3, 1) == 0 ? List.of() : TextFuzzTest.pairs(g, 1, 3);
        int textFault = rare(g);
        boolean randomFlags = g.weighted(11, 1) == 1;
        return new Step(template, choice, extra, textFault, randomFlags, g.between(0, 255), rare(g), rare(g),
                g.between(-2, 2));
    }

    /** Mostly 0 (no fault), one in 15 a fault 1 to 6. */
    private static int rare(Gen g) {
        return g.weighted(14, 1) == 0 ? 0 : g.between(1, 6);
    }

    record Login(FuzzConnection.Access access, List<Step> steps, boolean bystander) {
    }

    @Test
    void everyLoginRequestEndsInAResponseOrAClose() {
        Fuzz.check(g -> new Login(g.pick(FuzzConnection.Access.class), login(g), g.bool()), LoginFuzzTest::login);
    }

    private static void login(Login in) {
        FuzzConnection.Access access = in.access();
        try (FuzzConnection c = new FuzzConnection(access); FuzzConnection other = new FuzzConnection(c)) {
            if (in.bystander()) { // logged in first: TSIH 1, which the fuzzed requests may name
                other.loginBystander();
            }
            String firstIdentity = null;
            for (Step step : in.steps()) {
                if (c.closed() || c.fullFeature) {
                    break;
                }
                List<LoginRequest> requests = requests(c, step);
                try {
                    while (!requests.isEmpty() && !c.closed()) {
                        LoginRequest request = requests.remove(0);
                        String identity = request.isid() + "/" + request.tsih() + "/" + request.cid();
                        if (firstIdentity == null) {
                            firstIdentity = identity;
                        }
                        boolean changed = !identity.equals(firstIdentity);
                        checkLoginOutcome(c, c.exchange(request), changed);
                    }
                } finally {
                    requests.forEach(ReferenceCountUtil::release); // not sent: the connection closed
                }
            }
            assertAuthorized(c, access);
            // printed after the property: how often each access mode got how far
            Fuzz.collect(access, c.fullFeature ? "full feature phase" : c.closed() ? "closed" : "in login",
                    c.lastLoginStatus);
            if (!c.closed()) {
                c.assertPingAnswered();
            }
            if (in.bystander()) { // §6.3.5: only a login of the same initiator and ISID may end its session
                other.assertPingAnswered();
            }
        }
        log.assertQuiet();
    }

    /**
     * One Login Response, and a failed one closes the connection (§11.13.5, §6.3); or a close alone. A request
     * whose ISID, TSIH or CID differ from the first one of the login must fail (§11.12: they stay the same).
     */
    private static void checkLoginOutcome(FuzzConnection c, List<IscsiPdu> answers, boolean identityChanged) {
        try {
            if (answers.isEmpty()) {
                assertTrue(c.closed(), () -> "a Login Request got no answer on an open connection\n"
                        + c.transcript());
                return;
            }
            assertEquals(1, answers.size(), () -> "answers to one Login Request\n" + c.transcript());
            LoginResponse response = (LoginResponse) answers.get(0);
            assertTrue(!identityChanged || response.statusClass() != 0, () -> "ISID, TSIH or CID changed during "
                    + "login and the request succeeded\n" + c.transcript());
            if (response.statusClass() != 0) {
                assertTrue(c.closed(), () -> "failed login left the connection open\n" + c.transcript());
            } else {
                assertTrue(!c.closed(), () -> "successful Login Response, then a close\n" + c.transcript());
            }
        } finally {
            answers.forEach(ReferenceCountUtil::release);
        }
    }

    /** A normal session only for an initiator the TPG admits, after CHAP when the TPG requires it (§12.1). */
    private static void assertAuthorized(FuzzConnection c, FuzzConnection.Access access) {
        boolean session = c.core.sessions.stream()
                .anyMatch(s -> s.fabricSession.initiatorName().equals(TestInitiator.INITIATOR));
        boolean chapRequired = access == FuzzConnection.Access.CHAP_REQUIRED
                || access == FuzzConnection.Access.MUTUAL_REQUIRED;
        assertTrue(!session || (access != FuzzConnection.Access.DENIED && (!chapRequired || c.sentValidChap)),
                () -> "normal session opened for " + access + " without authentication\n" + c.transcript());
    }

    /** The Login Request(s) of one step: two when its text is split over a continuation (§11.12.2). */
    private static List<LoginRequest> requests(FuzzConnection c, Step s) {
        List<String[]> pairs = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (String[] p : keys(c, s)) {
            if (names.add(p[0])) { // a key twice is textFault 3, not an accident of generation
                pairs.add(p);
            }
        }
        for (String[] p : s.extra()) {
            if (names.add(p[0])) {
                pairs.add(p);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < pairs.size(); i++) {
            String[] p = pairs.get(i);
            boolean dropEquals = s.textFault() == 1 && i == pairs.size() - 1;
            sb.append(p[0]).append(dropEquals ? "" : "=").append(p[1]).append('\0');
        }
        if (s.textFault() == 2 && sb.length() > 0) {
            sb.setLength(sb.length() - 1); // no final NUL
        } else if (s.textFault() == 3 && !pairs.isEmpty()) {
            sb.append(pairs.get(0)[0]).append('=').append(pairs.get(0)[1]).append('\0'); // a key twice
        } else if (s.textFault() == 4) {
            sb.append("X-huge=").append("h".repeat(9000)).append('\0');
        }
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        int flags = s.randomFlags() ? s.flags() : naturalFlags(s.template());
        boolean transit = (flags & 0x80) != 0;
        boolean cont = (flags & 0x40) != 0;
        int csg = (flags >> 2) & 3;
        int nsg = flags & 3;
        long isid = TestInitiator.ISID;
        int tsih = 0;
        int cid = 1;
        switch (s.identity()) {
            case 1 -> isid ^= 1;
            case 2 -> tsih = 1; // the TSIH of an existing session, or one that does not exist
            case 3 -> tsih = s.choice()[7] * 655;
            case 4 -> cid = 2;
            default -> { }
        }
        int versionMax = s.version() == 1 ? 2 : 0;
        int versionMin = s.version() == 2 ? 1 : 0;
        int cmdSn = c.initiator.cmdSn + s.cmdSnDelta();
        List<LoginRequest> requests = new ArrayList<>();
        if (s.textFault() == 5 && text.length > 1 && !cont) { // §11.12.2: text split over two requests, C then F
            int cut = text.length / 2; // the identity changes (if it does) in the second one only
            requests.add(new LoginRequest(false, true, csg, nsg, versionMax, versionMin, TestInitiator.ISID, 0,
                    c.initiator.nextItt(), 1, cmdSn, c.initiator.expStatSn, copy(c, text, 0, cut)));
            requests.add(new LoginRequest(transit, false, csg, nsg, versionMax, versionMin, isid, tsih,
                    c.initiator.nextItt(), cid, cmdSn, c.initiator.expStatSn, copy(c, text, cut, text.length - cut)));
        } else {
            requests.add(new LoginRequest(transit, cont, csg, nsg, versionMax, versionMin, isid, tsih,
                    c.initiator.nextItt(), cid, cmdSn, c.initiator.expStatSn, copy(c, text, 0, text.length)));
        }
        return requests;
    }

    private static ByteBuf copy(FuzzConnection c, byte[] bytes, int offset, int length) {
        return c.alloc.copyOf(bytes, offset, length);
    }

    /** T, C, CSG, NSG as a real initiator would set them for a template. */
    private static int naturalFlags(int template) {
        return switch (template) {
            case 0, 1, 2, 4 -> 0x80 | (0 << 2) | 1; // T, security -> operational
            default -> 0x80 | (1 << 2) | 3; // T, operational -> full feature
        };
    }

    private static List<String[]> keys(FuzzConnection c, Step s) {
        int[] ch = s.choice();
        List<String[]> keys = new ArrayList<>();
        switch (s.template()) {
            case 0 -> {
                keys.add(pair("InitiatorName", ch[0] < 95 ? TestInitiator.INITIATOR : ""));
                keys.add(pair("SessionType", ch[1] < 90 ? "Normal" : ch[1] < 95 ? "Discovery" : "Other"));
                keys.add(pair("TargetName", ch[2] < 92 ? FuzzConnection.TARGET : ch[2] < 96 ? "iqn.x:none" : ""));
                // "CHAP,None" suits every TPG: None where allowed, CHAP where required
                keys.add(pair("AuthMethod", ch[3] < 60 ? "CHAP,None" : pick(ch[3], "None", "CHAP", "None,CHAP",
                        "SRP", "", "KRB5,CHAP", "Reject")));
            }
            case 1 -> keys.add(pair("CHAP_A", ch[0] < 70 ? "5" : pick(ch[0], "7,5", "7", "", "5,5,5", "x")));
            case 2 -> {
                keys.add(pair("CHAP_N", ch[0] < 85 ? FuzzConnection.USER : "someone-else"));
                String response = ch[1] < 70 ? c.chapResponse() : pick(ch[1], "0x00", "0b" + "AAAA", "0x", "0xZZ",
                        "", "0b!!", "0x" + "ab".repeat(16));
                keys.add(pair("CHAP_R", response));
                if (ch[0] < 85 && c.chapId >= 0 && response.equals(c.chapResponse())) {
                    c.sentValidChap = true; // the right name and response to the last challenge
                }
                if (ch[2] < 40) { // mutual CHAP (§12.1.3)
                    keys.add(pair("CHAP_I", pick(ch[3], "1", "255", "256", "-1", "0x10", "x", "")));
                    keys.add(pair("CHAP_C", pick(ch[4], "0x0123456789abcdef0123456789abcdef", "0x",
                            "0b" + "AAAA", hex(c.chapChallenge), "0x00", "")));
                } else if (ch[2] < 45) {
                    keys.add(pair("CHAP_I", "7")); // without CHAP_C
                }
            }
            case 3 -> {
                OperationalKey[] all = OperationalKey.values();
                for (int i = 0; i < 4; i++) {
                    if (ch[i] < 60) {
                        OperationalKey k = all[(ch[i] + ch[4 + i]) % all.length];
                        keys.add(pair(k.key(), validValue(k, ch[4 + i])));
                    }
                }
            }
            case 4 -> {
                keys.add(pair("InitiatorName", TestInitiator.INITIATOR));
                keys.add(pair("SessionType", "Discovery"));
                if (ch[0] < 50) {
                    keys.add(pair("AuthMethod", "None"));
                }
            }
            default -> { }
        }
        return keys;
    }

    /** A value of the key within its range or list, mostly; sometimes just outside. */
    private static String validValue(OperationalKey k, int choice) {
        switch (k.kind()) {
            case LIST:
                return pick(choice, "None", "CRC32C", "CRC32C,None", "None,CRC32C", "CRC32C,Other", "Other");
            case BOOLEAN_AND:
            case BOOLEAN_OR:
                return pick(choice, "Yes", "No", "Yes", "No", "Maybe");
            default:
                long span = k.max() - k.min();
                return choice < 90 ? Long.toString(k.min() + span * choice / 89) : choice < 95
                        ? Long.toString(k.max() + 1) : Long.toString(k.min() - 1);
        }
    }

    private static String pick(int choice, String... values) {
        return values[choice % values.length];
    }

    private static String hex(byte[] b) {
        return org.jtarget.iscsi.internal.login.Chap.encode(b);
    }

    private static String[] pair(String key, String value) {
        return new String[] {key, value};
    }
}
