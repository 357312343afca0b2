package org.jtarget.core.internal.alua;

import java.util.Objects;

/**
 * One target port group of a logical unit, as a value (replaced as a whole on change).
 *
 * @param name      unique within the LU
 * @param id        TARGET PORT GROUP, 1..65535
 * @param state     the primary target port asymmetric access state
 * @param preferred PREF (SPC-4 6.37)
 * @param mode      implicit and/or explicit transitions
 * @param status    STATUS CODE of REPORT TARGET PORT GROUPS (SPC-4 table 309): 00h none, 01h altered by SET TARGET
 *                  PORT GROUPS, 02h altered by an implicit transition
 */
public record AluaGroup(String name, int id, AluaState state, boolean preferred, TransitionMode mode, int status) {
    public static final int STATUS_NONE = 0x00;
    public static final int STATUS_ALTERED_BY_STPG = 0x01;
    public static final int STATUS_ALTERED_IMPLICITLY = 0x02;

    public AluaGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(mode, "mode");
        if (id < 1 || id > 0xFFFF) {
            throw new IllegalArgumentException("id: " + id + " (expected: 1..65535)");
        }
    }

    AluaGroup withState(AluaState s, int newStatus) {
        return new AluaGroup(name, id, s, preferred, mode, newStatus);
    }

    AluaGroup withPreferred(boolean p) {
        return new AluaGroup(name, id, state, p, mode, status);
    }

    AluaGroup withMode(TransitionMode m) {
        return new AluaGroup(name, id, state, preferred, m, status);
    }
}
