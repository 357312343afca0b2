package org.jtarget.core.internal.alua;

/**
 * The target port asymmetric access states (SPC-4 5.15.2.4, ASYMMETRIC ACCESS STATE of table 307), with the
 * support bit REPORT TARGET PORT GROUPS sets for each (SPC-4 6.37) and the name the shell and the saved
 * configuration use.
 */
public enum AluaState {
    ACTIVE_OPTIMIZED(0x0, 0x01, "active_optimized"),
    ACTIVE_NONOPTIMIZED(0x1, 0x02, "active_nonoptimized"),
    STANDBY(0x2, 0x04, "standby"),
    UNAVAILABLE(0x3, 0x08, "unavailable"),
    OFFLINE(0xE, 0x40, "offline"),
    /** Passed through on every change; never set by a user or SET TARGET PORT GROUPS. */
    TRANSITIONING(0xF, 0x80, "transitioning");

    /** T_SUP O_SUP U_SUP S_SUP AN_SUP AO_SUP: every state but LBA dependent (LBD_SUP 0). */
    public static final int SUPPORTED_BITS = 0x80 | 0x40 | 0x08 | 0x04 | 0x02 | 0x01;

    private final int code;
    private final int supportBit;
    private final String label;

    AluaState(int code, int supportBit, String label) {
        this.code = code;
        this.supportBit = supportBit;
        this.label = label;
    }

    /** ASYMMETRIC ACCESS STATE. */
    public int code() {
        return code;
    }

    public int supportBit() {
        return supportBit;
    }

    /** The shell's name, e.g. {@code active_optimized}. */
    public String label() {
        return label;
    }

    /** The state a user or initiator may set by this name, or null (transitioning is not one). */
    public static AluaState settable(String label) {
        for (AluaState s : values()) {
            if (s != TRANSITIONING && s.label.equals(label)) {
                return s;
            }
        }
        return null;
    }

    /** The state with this ASYMMETRIC ACCESS STATE code, or null. */
    public static AluaState ofCode(int code) {
        for (AluaState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }

    /** The labels a user may set, for messages. */
    public static String settableLabels() {
        return "active_optimized, active_nonoptimized, standby, unavailable, offline";
    }
}
