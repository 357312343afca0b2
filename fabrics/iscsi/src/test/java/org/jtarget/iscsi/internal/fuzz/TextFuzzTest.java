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
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.text.KeyKind;
import org.jtarget.iscsi.internal.text.Negotiator;
import org.jtarget.iscsi.internal.text.OperationalKey;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.iscsi.internal.text.TextCodec;

/**
 * Fuzzes the text format (RFC 7143 §6.1) and operational key negotiation (§6.2, §13): {@link TextCodec#parse}
 * either answers pairs that obey §6.1 or throws its declared TextFormatException, and {@link Negotiator}
 * answers every offer of every key with a valid value, "Reject" or nothing, and ends with parameters in range.
 */
class TextFuzzTest {
    private static final List<String> LOGIN_KEYS = List.of("InitiatorName", "TargetName", "SessionType",
            "AuthMethod", "CHAP_A", "CHAP_N", "CHAP_R", "CHAP_I", "CHAP_C", "SendTargets", "TargetAlias",
            "InitiatorAlias", "OFMarkInt", "IFMarkInt", "X-com.example.vendor");

    /** Key names: every operational key, login keys, and junk. */
    static Arbitrary<String> keys() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.of(OperationalKey.class).map(OperationalKey::key)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(LOGIN_KEYS)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(70)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().alpha().ofLength(64)));
    }

    /** Values: numbers of every form, booleans, lists, answers, binary values, junk and huge strings. */
    static Arbitrary<String> anyValue() {
        return Arbitraries.oneOf(
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.integers().between(-2, 70000).map(String::valueOf),
                Arbitraries.longs().map(n -> "0x" + Long.toHexString(n)),
                Arbitraries.of("", "0", "0x", "0X10", "-0x5", "0x-5", "+512", "512 ", " 512", "1e3", "18446744073709551616",
                        "0x1000000", "16777215", "16777216", "511", "512", "65535", "65536", "3600", "3601"),
                Arbitraries.of("Yes", "No", "yes", "YES", "Yes,No", "None", "CRC32C", "CRC32C,None", "None,CRC32C",
                        "crc32c", "CRC32C,,None", ",", "None,", "CHAP,None", "CHAP", "KRB5,SRP,CHAP,None",
                        "NotUnderstood", "Irrelevant", "Reject", "Normal", "Discovery", "All", "5", "5,7",
                        "0b", "0x0", "0bAAAA", "0b====", "0xZZ"),
                Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().withChars('a', '=', ',', '\0', 'Y').ofMaxLength(20),
                // huge values around the limits of §6.1 (255 and 8192 bytes), cheap to generate
                Arbitraries.integers().between(250, 8300).map(n -> "v".repeat(n)),
                Arbitraries.integers().between(120, 4200).map(n -> "\u00e9".repeat(n)));
    }

    @Provide
    Arbitrary<List<String[]>> pairs() {
        return Combinators.combine(keys(), anyValue()).as((k, v) -> new String[] {k, v}).list().ofMaxSize(20);
    }

    @Provide
    Arbitrary<Map<String, String>> tpgParameters() {
        return Arbitraries.maps(keys(), anyValue()).ofMaxSize(6);
    }

    @Property
    void randomBytesParseOrFailWithTheDeclaredException(@ForAll @Size(max = 600) byte[] bytes) {
        parse(bytes);
    }

    /**
     * Generated text with its faults: duplicates, missing '=', missing final NUL, stray NULs, a key over 63
     * bytes, values over 8192 bytes. Whatever parses goes on to a negotiation.
     */
    @Property
    void generatedTextParsesAndNegotiates(@ForAll("pairs") List<String[]> pairs, @ForAll boolean duplicate,
                                          @ForAll boolean dropEquals, @ForAll boolean dropLastNul,
                                          @ForAll boolean strayNuls, @ForAll("tpgParameters") Map<String, String> tpg) {
        List<String[]> all = new ArrayList<>(pairs);
        if (duplicate && !all.isEmpty()) {
            all.add(all.get(0));
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < all.size(); i++) {
            String[] p = all.get(i);
            sb.append(p[0]).append(dropEquals && i == all.size() / 2 ? "" : "=").append(p[1]).append('\0');
            if (strayNuls && i % 3 == 0) {
                sb.append('\0');
            }
        }
        if (dropLastNul && sb.length() > 0) {
            sb.setLength(sb.length() - 1);
        }
        Map<String, String> parsed = parse(sb.toString().getBytes(StandardCharsets.UTF_8));
        if (parsed != null) {
            Negotiator negotiator = new Negotiator(tpg, warning -> { });
            parsed.forEach((k, v) -> {
                OperationalKey key = OperationalKey.forKey(k);
                if (key != null) {
                    checkAnswer(key, v, negotiator.respond(key, v));
                }
            });
            checkParameters(negotiator.parameters());
        }
    }

    /** Every operational key with every kind of value, against random TPG preferences. */
    @Property
    void everyOperationalKeyAnswersValidly(@ForAll OperationalKey key, @ForAll("values") String value,
                                           @ForAll("tpgParameters") Map<String, String> tpg) {
        Negotiator negotiator = new Negotiator(tpg, warning -> { });
        checkAnswer(key, value, negotiator.respond(key, value));
        checkParameters(negotiator.parameters());
    }

    @Provide
    Arbitrary<String> values() {
        return anyValue().filter(v -> v.length() <= TextCodec.MAX_VALUE_LENGTH);
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
