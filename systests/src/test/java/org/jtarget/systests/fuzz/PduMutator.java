package org.jtarget.systests.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Byte-level and text-level mutations of iSCSI PDUs (RFC 7143 §11): bit flips, interesting values written over
 * BHS fields, wrong DataSegmentLength or TotalAHSLength (the stream loses step), truncation, trailing garbage,
 * and for text segments (§6.1: {@code key=value\0}) unknown keys, bad values, duplicates, missing separators,
 * invalid UTF-8 and over-long values. Every choice comes from the {@link SplittableRandom} given, so a seed
 * reproduces the same bytes. Each mutation applied is named to a {@link FuzzCounts} under {@code "mutation: "}.
 */
public final class PduMutator {
    /** Values that sit on the edges of iSCSI fields: zero, one, sign bits, 24-bit and 16-bit limits, our limits. */
    static final int[] INTERESTING_INTS = {0, 1, -1, 2, 0x7fffffff, 0x80000000, 0xffff, 0x10000, 0xffffff,
            0x1000000, 47, 48, 511, 512, 8192, 65535, 65536, 65537, 262144, 262145, 0xfffffffe};
    private static final byte[] INTERESTING_BYTES = {0, 1, 0x7f, (byte) 0x80, (byte) 0xff, 0x3f, 0x40, (byte) 0xc0};
    private static final String[] KNOWN_KEYS = {"InitiatorName", "TargetName", "SessionType", "AuthMethod",
            "HeaderDigest", "DataDigest", "MaxConnections", "InitialR2T", "ImmediateData", "MaxRecvDataSegmentLength",
            "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T",
            "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel", "SendTargets", "TargetAlias",
            "InitiatorAlias", "TargetAddress", "TargetPortalGroupTag", "OFMarker", "IFMarker", "OFMarkInt",
            "IFMarkInt", "TaskReporting", "iSCSIProtocolLevel", "X-com.example.vendor", "X#org.jtarget.key",
            "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R", "SRP_U", "KRB_AP_REQ"};
    private static final String[] INTERESTING_VALUES = {"", "0", "1", "-1", "4294967295", "4294967296",
            "99999999999999999999999", "16777215", "16777216", "512", "Yes", "No", "Yes,No", "None", "CRC32C",
            "CRC32C,None,Bogus", "CHAP,None", "None,CHAP", "Reject", "Irrelevant", "NotUnderstood", "All",
            "Discovery", "Normal", "0x", "0xZZ", "0b", "0b====", "0x" + "ab".repeat(600), "1~5", "5~1", "=",
            "\u00e9t\u00e9", "iqn.", "eui.0123456789abcdef", "naa.", ",,,", "5,5,5,5"};

    private final SplittableRandom random;
    private final FuzzCounts counts;

    public PduMutator(SplittableRandom random, FuzzCounts counts) {
        this.random = random;
        this.counts = counts;
    }

    /** Applies one to three byte-level mutations to a whole PDU (BHS, data, padding); may change its length. */
    public byte[] mutate(byte[] pdu) {
        byte[] out = pdu;
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            out = mutateOnce(out);
        }
        return out;
    }

    private byte[] mutateOnce(byte[] pdu) {
        if (pdu.length == 0) {
            return pdu;
        }
        byte[] out = pdu.clone();
        int headerEnd = Math.min(48, out.length);
        switch (random.nextInt(10)) {
            case 0 -> { // bit flips, mostly in the BHS
                counts.add("mutation: bit flips");
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips && out.length > 0; i++) {
                    int at = random.nextInt(4) > 0 ? random.nextInt(headerEnd) : random.nextInt(out.length);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> { // one byte of the BHS set to an edge value
                counts.add("mutation: byte set");
                out[random.nextInt(headerEnd)] = INTERESTING_BYTES[random.nextInt(INTERESTING_BYTES.length)];
            }
            case 2, 3 -> { // a 32-bit BHS word (LUN, ITT, TTT, CmdSN, ExpStatSN, offsets, lengths) overwritten
                counts.add("mutation: field overwrite");
                if (out.length >= 48) {
                    int at = 8 + 4 * random.nextInt(10);
                    ByteBuffer.wrap(out).putInt(at, interestingInt());
                }
            }
            case 4 -> { // opcode byte: another opcode, I bit toggled, or a reserved/vendor/target opcode
                counts.add("mutation: opcode");
                out[0] = (byte) ((out[0] & 0x40) ^ (random.nextBoolean() ? 0x40 : 0) | random.nextInt(64));
            }
            case 5 -> { // DataSegmentLength no longer matches what follows (§11.2.1.5): the stream loses step
                counts.add("mutation: wrong DataSegmentLength");
                if (out.length >= 48) {
                    int length = random.nextBoolean() ? random.nextInt(1 << 24) : Math.max(0, out.length - 48
                            + random.nextInt(-8, 9));
                    out[5] = (byte) (length >> 16);
                    out[6] = (byte) (length >> 8);
                    out[7] = (byte) length;
                }
            }
            case 6 -> { // TotalAHSLength claims header segments that are not there (§11.2.1.4)
                counts.add("mutation: wrong TotalAHSLength");
                if (out.length >= 48) {
                    out[4] = (byte) (random.nextBoolean() ? 1 + random.nextInt(4) : random.nextInt(256));
                }
            }
            case 7 -> { // cut short: the target waits for the rest
                counts.add("mutation: truncated");
                out = Arrays.copyOf(out, random.nextInt(out.length)); // may be empty: nothing sent
            }
            case 8 -> { // garbage after the PDU: the next "PDU" is random bytes
                counts.add("mutation: trailing garbage");
                byte[] junk = bytes(1 + random.nextInt(200));
                out = Arrays.copyOf(out, out.length + junk.length);
                System.arraycopy(junk, 0, out, out.length - junk.length, junk.length);
            }
            default -> { // data segment bytes scrambled (text, CDB payloads)
                counts.add("mutation: data bytes");
                for (int i = 0; i < 1 + random.nextInt(16) && out.length > 48; i++) {
                    out[48 + random.nextInt(out.length - 48)] = (byte) random.nextInt(256);
                }
            }
        }
        return out;
    }

    /**
     * A text segment from {@code pairs} ({@code key=value} strings) with one to three text-level mutations;
     * the result may be far from RFC 7143 §6.1 form (no final NUL, no '=', invalid UTF-8, 64 KiB values).
     */
    public byte[] mutateText(List<String> pairs) {
        List<String> keys = new ArrayList<>(pairs);
        int n = 1 + random.nextInt(3);
        boolean noFinalNul = false;
        boolean invalidUtf8 = false;
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(9)) {
                case 0 -> { // an unknown or known key with an edge value
                    counts.add("mutation: text key added");
                    keys.add(random.nextInt(keys.size() + 1), randomKey() + "=" + randomValue());
                }
                case 1 -> { // a key given twice (§6.1: a negotiation error)
                    counts.add("mutation: text key repeated");
                    if (!keys.isEmpty()) {
                        keys.add(keys.get(random.nextInt(keys.size())));
                    }
                }
                case 2 -> { // a key left out (InitiatorName, TargetName, CHAP_R...)
                    counts.add("mutation: text key dropped");
                    if (!keys.isEmpty()) {
                        keys.remove(random.nextInt(keys.size()));
                    }
                }
                case 3, 4 -> { // a key's value replaced by an edge value
                    counts.add("mutation: text value replaced");
                    if (!keys.isEmpty()) {
                        int at = random.nextInt(keys.size());
                        String pair = keys.get(at);
                        int eq = Math.max(0, pair.indexOf('='));
                        keys.set(at, pair.substring(0, eq) + "=" + randomValue());
                    }
                }
                case 5 -> { // no '=' (§6.1 syntax error)
                    counts.add("mutation: text without '='");
                    if (!keys.isEmpty()) {
                        int at = random.nextInt(keys.size());
                        keys.set(at, keys.get(at).replace("=", random.nextBoolean() ? "" : " "));
                    }
                }
                case 6 -> { // a value longer than 255 bytes (§6.1 allows 255 for most, 8192 for some)
                    counts.add("mutation: text value over-long");
                    keys.add(randomKey() + "=" + "x".repeat(random.nextBoolean() ? 256 + random.nextInt(8000)
                            : 8192 + random.nextInt(60000)));
                }
                case 7 -> {
                    counts.add("mutation: text without final NUL");
                    noFinalNul = true;
                }
                default -> {
                    counts.add("mutation: text invalid UTF-8");
                    invalidUtf8 = true;
                }
            }
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (String k : keys) {
            text.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            text.write(0);
        }
        byte[] bytes = text.toByteArray();
        if (noFinalNul && bytes.length > 0) {
            bytes = Arrays.copyOf(bytes, bytes.length - 1);
        }
        if (invalidUtf8 && bytes.length > 0) {
            bytes[random.nextInt(bytes.length)] = (byte) (0x80 | random.nextInt(0x80));
        }
        return bytes;
    }

    /** An edge value, or a random 32-bit value one time in four. */
    public int interestingInt() {
        return random.nextInt(4) == 0 ? random.nextInt() : INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)];
    }

    public String randomKey() {
        if (random.nextInt(4) == 0) { // made up: letters, digits, odd characters
            String alphabet = "abcXYZ019.-+@_:[]~ ";
            StringBuilder sb = new StringBuilder();
            for (int i = random.nextInt(1, 70); i > 0; i--) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            return sb.toString();
        }
        return KNOWN_KEYS[random.nextInt(KNOWN_KEYS.length)];
    }

    public String randomValue() {
        return INTERESTING_VALUES[random.nextInt(INTERESTING_VALUES.length)];
    }

    public byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) random.nextInt(256);
        }
        return b;
    }
}
