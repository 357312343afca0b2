package org.jtarget.spi.fabric;

import java.util.Locale;
import java.util.Map;

/**
 * Resource limits per peer, each a TPG attribute (set with {@code tpg:set TARGET TAG KEY VALUE}, validated by
 * the core, handed to the fabric in {@link TpgEndpoint#parameters()} under {@link #key()}). A fabric applies
 * the ones that mean something for it; a missing or unparsable value means {@link #defaultValue()}.
 */
public enum TpgLimit {
    /** Sessions of one target, over all its TPGs, in the full feature phase; a login beyond is refused. */
    MAX_SESSIONS("max_sessions", 256, 1, 65535, "sessions per target"),
    /** Sessions one initiator name may hold on one target at a time; a login beyond is refused. */
    MAX_SESSIONS_PER_INITIATOR("max_sessions_per_initiator", 16, 1, 65535, "sessions per initiator and target"),
    /**
     * Connections from one source address that have not yet finished their login; more are closed as they
     * arrive. Applies before the initiator names a target, so per portal: the smallest value among the TPGs
     * listening on the portal the connection reached.
     */
    MAX_LOGINS_PER_ADDRESS("max_logins_per_address", 16, 1, 65535, "connections in login per source address"),
    /** Seconds a connection may take from its arrival to the full feature phase; per portal like the above. */
    LOGIN_TIMEOUT("login_timeout", 15, 1, 3600, "seconds"),
    /** Commands in flight per session: the CmdSN window (MaxCmdSN - ExpCmdSN + 1). */
    CMDSN_WINDOW("cmdsn_window", 128, 1, 4096, "commands"),
    /** Bytes of immediate and unsolicited write data a connection may hold (queued and running commands). */
    MAX_UNSOLICITED_BYTES("max_unsolicited_bytes", 16 << 20, 65536, 1 << 30, "bytes"),
    /** Bytes of read data a connection may have in flight (being read or waiting to be sent) at a time. */
    MAX_DATA_IN_BYTES("max_data_in_bytes", 8 << 20, 65536, 1 << 30, "bytes");

    private final String key;
    private final int defaultValue;
    private final int min;
    private final int max;
    private final String unit;

    TpgLimit(String key, int defaultValue, int min, int max, String unit) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.unit = unit;
    }

    /** The attribute name, e.g. {@code max_sessions}. */
    public String key() {
        return key;
    }

    public int defaultValue() {
        return defaultValue;
    }

    public int min() {
        return min;
    }

    public int max() {
        return max;
    }

    /** The limit named {@code key}, or null. */
    public static TpgLimit forKey(String key) {
        for (TpgLimit l : values()) {
            if (l.key.equals(key)) {
                return l;
            }
        }
        return null;
    }

    /**
     * Parses a user's value: a decimal integer in [{@link #min()}, {@link #max()}], for byte limits also with a
     * K, M or G suffix (powers of 1024).
     *
     * @throws IllegalArgumentException with "key: value (expected: ...)" when it is not one
     */
    public int parse(String value) {
        String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
        long factor = 1;
        if (unit.equals("bytes") && !v.isEmpty()) {
            char last = v.charAt(v.length() - 1);
            factor = last == 'K' ? 1L << 10 : last == 'M' ? 1L << 20 : last == 'G' ? 1L << 30 : 1;
            if (factor > 1) {
                v = v.substring(0, v.length() - 1);
            }
        }
        long n;
        try {
            n = Long.parseLong(v) * factor;
        } catch (NumberFormatException e) {
            n = Long.MIN_VALUE;
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(key + ": " + value + " (expected: " + unit + ", an integer from "
                    + min + " to " + max + (unit.equals("bytes") ? ", K/M/G suffix allowed" : "") + ")");
        }
        return (int) n;
    }

    /** This limit's value in a TPG's parameters: the default when absent or invalid. */
    public int valueIn(Map<String, String> parameters) {
        String v = parameters.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            return parse(v);
        } catch (IllegalArgumentException e) {
            return defaultValue;
        }
    }
}
