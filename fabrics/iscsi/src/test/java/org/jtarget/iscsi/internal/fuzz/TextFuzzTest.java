package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.text.KeyKind;
import org.jtarget.iscsi.internal.text.Negotiator;
import org.jtarget.iscsi.internal.text.OperationalKey;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the text format (RFC 7143 §6.1) and operational key negotiation (§6.2, §13): {@link TextCodec#parse}
 * either answers pairs that obey §6.1 or throws its declared TextFormatException, and {@link Negotiator}
 * answers every offer of every key with a valid value, "Reject" or nothing, and ends with parameters in range.
 */
class TextFuzzTest {
    private static final List<String> LOGIN_KEYS = List.of("InitiatorName", "TargetName", "SessionType",
            "AuthMethod", "CHAP_A", "CHAP_N", "CHAP_R", "CHAP_I", "CHAP_C", "SendTargets", "TargetAlias",
            "InitiatorAlias", "OFMarkInt", "IFMarkInt", "X-com.example.vendor");

    private static final String[] VALUES = {"", "0", "0x", "0X10", "-0x5", "0x-5", "+512", "512 ", " 512", "1e3",
        "18446744073709551616", "0x1000000", "16777215", "16777216", "511", "512", "65535", "65536", "3600", "3601"};
    private static final String[] WORDS = {"Yes", "No", "yes", "YES", "Yes,No", "None", "CRC32C", "CRC32C,None",
        "None,CRC32C", "crc32c", "CRC32C,,None", ",", "None,", "CHAP,None", "CHAP", "KRB5,SRP,CHAP,None",
        "NotUnderstood", "Irrelevant", "Reject", "Normal", "Discovery", "All", "5", "5,7", "0b", "0x0", "0bAAAA",
        "0b====", "0xZZ"};

    /** Key names: every operational key, login keys, and junk. */
    static String key(Gen g) {
        return switch (g.weighted(4, 2, 1, 1)) {
            case 0 -> g.pick(OperationalKey.class).key();
            case 1 -> g.pick(LOGIN_KEYS);
            case 2 -> g.string(70);
            default -> g.alpha(64);
        };
    }

    /** Values: numbers of every form, booleans, lists, answers, binary values, junk and huge strings. */
    static String anyValue(Gen g) {
        return switch (g.index(8)) {
            case 0 -> String.valueOf(g.anyLong());
            case 1 -> String.valueOf(g.between(-2, 70000));
            case 2 -> "0x" + Long.toHexString(g.anyLong());
            case 3 -> g.pick(VALUES);
            case 4 -> g.pick(WORDS);
            case 5 -> g.string(40);
            case 6 -> g.string(20, 'a', '=', ',', '\0', 'Y');
            // huge values around the limits of §6.1 (255 and 8192 bytes), cheap to generate
            case 7 -> g.bool() ? "v".repeat(g.between(250, 8300)) : "\u00e9".repeat(g.between(120, 4200));
            default -> throw new AssertionError();
        };
    }

    static List<String[]> pairs(Gen g, int min, int max) {
        return g.list(min, max, () -> new String[] {key(g), anyValue(g)});
    }

    static Map<String, String> tpgParameters(Gen g) {
        Map<String, String> tpg = new HashMap<>();
        for (int n = g.between(0, 6); n > 0; n--) {
            tpg.put(key(g), anyValue(g));
        }
        return tpg;
    }

    @Test
    void randomBytesParseOrFailWithTheDeclaredException() {
        Fuzz.check(g -> g.bytes(0, 600), TextFuzzTest::parse);
    }

    record Text(List<String[]> pairs, boolean duplicate, boolean dropEquals, boolean dropLastNul, boolean strayNuls,
                Map<String, String> tpg) {
    }

    /**
     * Generated text with its faults: duplicates, missing '=', missing final NUL, stray NULs, a key over 63
     * bytes, values over 8192 bytes. Whatever parses goes on to a negotiation.
     */
    @Test
    void generatedTextParsesAndNegotiates() {
        Fuzz.check(g -> new Text(pairs(g, 0, 20), g.bool(), g.bool(), g.bool(), g.bool(), tpgParameters(g)),
                TextFuzzTest::parseAndNegotiate);
    }

    private static void parseAndNegotiate(Text in) {
        List<String[]> all = new ArrayList<>(in.pairs());
        if (in.duplicate() && !all.isEmpty()) {
            all.add(all.get(0));
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < all.size(); i++) {
            String[] p = all.get(i);
            sb.append(p[0]).append(in.dropEquals() && i == all.size() / 2 ? "" : "=").append(p[1]).append('\0');
            if (in.strayNuls() && i % 3 == 0) {
                sb.append('\0');
            }
        }
        if (in.dropLastNul() && sb.length() > 0) {
            sb.setLength(sb.length() - 1);
        }
        Map<String, String> parsed = parse(sb.toString().getBytes(StandardCharsets.UTF_8));
        if (parsed != null) {
            Negotiator negotiator = new Negotiator(in.tpg(), warning -> { });
            parsed.forEach((k, v) -> {
                OperationalKey key = OperationalKey.forKey(k);
                if (key != null) {
                    checkAnswer(key, v, negotiator.respond(key, v));
                }
            });
            checkParameters(negotiator.parameters());
        }
    }

    record Offer(OperationalKey key, String value, Map<String, String> tpg) {
    }

    /** Every operational key with every kind of value (up to 8192 bytes), against random TPG preferences. */
    @Test
    void everyOperationalKeyAnswersValidly() {
        Fuzz.check(g -> {
            String value;
            do {
                value = anyValue(g);
            } while (value.length() > TextCodec.MAX_VALUE_LENGTH);
            return new Offer(g.pick(OperationalKey.class), value, tpgParameters(g));
        }, in -> {
            Negotiator negotiator = new Negotiator(in.tpg(), warning -> { });
            checkAnswer(in.key(), in.value(), negotiator.respond(in.key(), in.value()));
            checkParameters(negotiator.parameters());
        });
    }

    /** The pairs, or null after the declared TextFormatException; any other exception fails the property. */
    private static Map<String, String> parse(byte[] bytes) {
        Map<String, String> pairs;
        try {
            pairs = TextCodec.parse(Unpooled.wrappedBuffer(bytes));
        } catch (TextCodec.TextFormatException e) {
            assertNotNull(e.getMessage());
            return null;
        }
        for (Map.Entry<String, String> e : pairs.entrySet()) { // §6.1
            assertFalse(e.getKey().isEmpty(), "empty key");
            if ((e.getKey() + e.getValue()).indexOf('\ufffd') >= 0) {
                continue; // invalid UTF-8 decoded as U+FFFD: its length in bytes is no longer the input's
            }
            assertTrue(e.getKey().getBytes(StandardCharsets.UTF_8).length <= TextCodec.MAX_KEY_LENGTH,
                    () -> "key length: " + e.getKey().length() + " (expected: <= 63)");
            assertFalse(e.getKey().contains("\0") || e.getValue().contains("\0"), "NUL inside a pair");
            assertTrue(e.getValue().getBytes(StandardCharsets.UTF_8).length <= TextCodec.MAX_VALUE_LENGTH,
                    () -> "value length: " + e.getValue().length() + " (expected: <= 8192)");
        }
        return pairs;
    }

    /** §6.2: an answer is null (declarative or an answer to an answer), "Reject", or a valid value. */
    private static void checkAnswer(OperationalKey key, String offered, String answer) {
        boolean answerToAnswer = Arrays.asList("NotUnderstood", "Irrelevant", "Reject").contains(offered);
        boolean declaration = key.kind() == KeyKind.DECLARATIVE_NUMBER && key.validate(offered) == null;
        if (answerToAnswer || declaration) {
            assertNull(answer, () -> key.key() + "=" + offered + " answered " + answer + " (expected: nothing)");
            return;
        }
        assertNotNull(answer, () -> key.key() + "=" + offered + " not answered");
        if (key.validate(offered) != null) {
            assertEquals("Reject", answer, () -> key.key() + "=" + offered);
        } else if (!answer.equals("Reject")) {
            assertNull(key.validate(answer), () -> key.key() + "=" + offered + " answered " + answer);
            if (key.kind() == KeyKind.LIST) {
                assertTrue(Arrays.asList(offered.split(",")).contains(answer), () -> "answer " + answer
                        + " not among the offered " + offered + " (§6.2.1)");
            }
        }
    }

    /** The outcome is usable: ranges of §13 hold and the connection settings accept it. */
    private static void checkParameters(SessionParameters p) {
        assertTrue(p.initiatorMaxRecvDataSegmentLength() >= 512 && p.initiatorMaxRecvDataSegmentLength() <= 0xffffff,
                () -> "initiator MaxRecvDataSegmentLength: " + p);
        new ConnectionSettings().maxRecvDataSegmentLength(p.targetMaxRecvDataSegmentLength());
        assertTrue(p.maxBurstLength() >= 512 && p.firstBurstLength() >= 512
                && p.firstBurstLength() <= p.maxBurstLength(), () -> "bursts: " + p);
        assertTrue(p.maxConnections() >= 1 && p.maxOutstandingR2T() >= 1 && p.errorRecoveryLevel() >= 0
                && p.errorRecoveryLevel() <= 2, () -> "limits: " + p);
        assertTrue(p.defaultTime2Wait() >= 0 && p.defaultTime2Wait() <= 3600 && p.defaultTime2Retain() >= 0
                && p.defaultTime2Retain() <= 3600, () -> "times: " + p);
    }
}
