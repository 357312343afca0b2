package org.jtarget.shell.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jtarget.api.TargetException;

/** Argument parsing and service calls shared by the command classes. Messages read "what: value (expected: …)". */
final class Args {
    /** Parameter keys whose values are never printed. */
    private static final Pattern SECRET_KEY = Pattern.compile(".*(secret|password|passwd|credential|token).*",
            Pattern.CASE_INSENSITIVE);
    static final String MASK = "***"; // issue 7 §4: backstore:list shows secret_key=***

    private Args() {
    }

    /** A TPG tag, 1..65535 (RFC 7143 §13.9: TargetPortalGroupTag is a 16-bit value). */
    static int tag(String text) {
        return number(text, "TPG tag", 1, 65535);
    }

    /** A LUN number, 0..16383 (SAM-5 flat space addressing method: a 14-bit LUN). */
    static int lun(String text) {
        return number(text, "LUN", 0, 16383);
    }

    static int number(String text, String what, int min, int max) {
        if (text == null || text.isEmpty()) {
            throw new CommandFailure(what + ": missing (expected a number " + min + ".." + max + ")");
        }
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new CommandFailure(what + ": " + text + " (expected a number " + min + ".." + max + ")");
        }
        if (value < min || value > max) {
            throw new CommandFailure(what + ": " + text + " (expected " + min + ".." + max + ")");
        }
        return (int) value;
    }

    /** {@code key=value} words into an ordered map; a key may appear once. */
    static Map<String, String> keyValues(List<String> words) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String word : words) {
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw new CommandFailure("parameter: " + word + " (expected key=value, e.g. size=10G)");
            }
            String key = word.substring(0, eq).trim();
            if (map.put(key, word.substring(eq + 1)) != null) {
                throw new CommandFailure("parameter " + key + ": given twice (expected each key once)");
            }
        }
        return map;
    }

    /** A boolean TPG attribute value. */
    static String bool(String what, String text) {
        String v = text.toLowerCase(Locale.ROOT);
        switch (v) {
            case "true": case "yes": case "on": case "1":
                return "true";
            case "false": case "no": case "off": case "0":
                return "false";
            default:
                throw new CommandFailure(what + ": " + text + " (expected true or false)");
        }
    }

    static boolean isSecretKey(String key) {
        return SECRET_KEY.matcher(key).matches();
    }

    /** A parameter value as shown to users: secrets masked. */
    static String shown(String key, String value) {
        return isSecretKey(key) ? MASK : value;
    }

    /** Runs a service call, turning its refusal into a {@link CommandFailure} carrying the same message. */
    static <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (TargetException | IllegalArgumentException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new CommandFailure(message, e);
        }
    }

    static void run(Runnable call) {
        call(() -> {
            call.run();
            return null;
        });
    }

    /** Bytes as a short size with the suffixes the backstores accept (K, M, G, T; powers of 1024). */
    static String size(long bytes) {
        if (bytes <= 0) {
            return "-";
        }
        String[] units = {"", "K", "M", "G", "T", "P", "E"};
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        if (unit == 0) {
            return bytes + "B";
        }
        long whole = (long) value;
        return (value == whole ? Long.toString(whole) : String.format(Locale.ROOT, "%.1f", value)) + units[unit];
    }
}
