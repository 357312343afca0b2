package org.jtarget.core.internal.alua;

/** Which asymmetric access state transitions a group supports: the TPGS field of standard INQUIRY data (SPC-4 6.6.2). */
public enum TransitionMode {
    /** TPGS 01b: the target changes states; SET TARGET PORT GROUPS is refused. */
    IMPLICIT(0x10, "implicit"),
    /** TPGS 10b: only SET TARGET PORT GROUPS (and the administrator) change states. */
    EXPLICIT(0x20, "explicit"),
    /** TPGS 11b. */
    BOTH(0x30, "both");

    private final int tpgs;
    private final String label;

    TransitionMode(int tpgs, String label) {
        this.tpgs = tpgs;
        this.label = label;
    }

    /** Byte 5 of standard INQUIRY data with the TPGS field (bits 5-4) set, the other bits clear. */
    public int tpgsBits() {
        return tpgs;
    }

    public boolean explicit() {
        return this != IMPLICIT;
    }

    public String label() {
        return label;
    }

    public static TransitionMode of(String label) {
        for (TransitionMode m : values()) {
            if (m.label.equals(label)) {
                return m;
            }
        }
        return null;
    }
}
