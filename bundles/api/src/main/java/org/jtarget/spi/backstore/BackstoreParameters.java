package org.jtarget.spi.backstore;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jtarget.scsi.SenseReason;

/**
 * Parsing helpers for backstore parameters, shared by every provider so that users meet one syntax
 * and one error style. Every failure is a {@link BackstoreException} with
 * {@link SenseReason#INVALID_FIELD_IN_PARAMETER_LIST} and a message for the user: "key: value (expected: ...)".
 */
public final class BackstoreParameters {
    private BackstoreParameters() {
    }

    /** Rejects keys not in {@code known}, so that a typo ("blocksize=4096") does not pass silently. */
    public static void checkKnown(Map<String, String> parameters, Set<String> known) throws BackstoreException {
        for (String key : parameters.keySet()) {
            if (!known.contains(key)) {
                throw invalid("unknown parameter: " + key + " (expected one of: " + String.join(", ", known) + ")");
            }
        }
    }

    /** A byte count: a decimal number with an optional binary suffix K, M, G or T (case-insensitive). */
    public static long size(String key, String value) throws BackstoreException {
        String v = value.trim();
        int shift = 0;
        if (!v.isEmpty()) {
            switch (Character.toUpperCase(v.charAt(v.length() - 1))) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw invalid(key + ": " + value + " (expected: a number with optional K, M, G or T)");
        }
        if (n <= 0) {
            throw invalid(key + ": " + value + " (expected: greater than 0)");
        }
        if (n > (Long.MAX_VALUE >> shift)) {
            throw invalid(key + ": " + value + " (expected: at most " + (Long.MAX_VALUE >> 40) + "T)");
        }
        return n << shift;
    }

    /** Logical block size: 512 or 4096 (SBC-3 6.2 READ CAPACITY reports it). */
    public static int blockSize(String value) throws BackstoreException {
        return switch (value.trim()) {
            case "512" -> 512;
            case "4096" -> 4096;
            default -> throw invalid("block_size: " + value + " (expected: 512 or 4096)");
        };
    }

    public static boolean bool(String key, String value) throws BackstoreException {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key + ": " + value + " (expected: true or false)");
        };
    }

    public static BackstoreException invalid(String message) {
        return new BackstoreException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, message);
    }
}
