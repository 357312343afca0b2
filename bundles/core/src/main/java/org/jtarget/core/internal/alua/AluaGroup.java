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
 *                  PORT GROUPS, 02h altered by an implicit transition; kept with the state and saved with it
 * @param transitionSeconds IMPLICIT TRANSITION TIME (0..255 s) this group announces: the longest a transition of
 *                  its state lasts (0: not specified)
 */
public record AluaGroup(String name, int id, AluaState state, boolean preferred, TransitionMode mode, int status,
                        int transitionSeconds) {
    public static final int STATUS_NONE = 0x00;
    public static final int STATUS_ALTERED_BY_STPG = 0x01;
    public static final int STATUS_ALTERED_IMPLICITLY = 0x02;
    /** The IMPLICIT TRANSITION TIME of a group that has not been given one. */
    public static final int DEFAULT_TRANSITION_SECONDS = 2;

    public AluaGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(mode, "mode");
        if (id < 1 || id > 0xFFFF) {
            throw new IllegalArgumentException("id: " + id + " (expected: 1..65535)");
        }
        if (status != STATUS_NONE && status != STATUS_ALTERED_BY_STPG && status != STATUS_ALTERED_IMPLICITLY) {
            throw new IllegalArgumentException("status: " + status + " (expected: 0, 1 or 2)");
        }
        if (transitionSeconds < 0 || transitionSeconds > 0xFF) {
            throw new IllegalArgumentException("transition_time: " + transitionSeconds + " (expected: 0..255 seconds)");
        }
    }

    /** A new group: active/optimized, implicit and explicit, no status, the default transition time. */
    static AluaGroup initial(String name, int id) {
        return new AluaGroup(name, id, AluaState.ACTIVE_OPTIMIZED, false, TransitionMode.BOTH, STATUS_NONE,
                DEFAULT_TRANSITION_SECONDS);
    }

    /** As a new group is: nothing to save. */
    public boolean asCreated() {
        return state == AluaState.ACTIVE_OPTIMIZED && !preferred && mode == TransitionMode.BOTH
                && status == STATUS_NONE && transitionSeconds == DEFAULT_TRANSITION_SECONDS;
    }

    AluaGroup withState(AluaState s, int newStatus) {
        return new AluaGroup(name, id, s, preferred, mode, newStatus, transitionSeconds);
    }

    AluaGroup withPreferred(boolean p) {
        return new AluaGroup(name, id, state, p, mode, status, transitionSeconds);
    }

    AluaGroup withMode(TransitionMode m) {
        return new AluaGroup(name, id, state, preferred, m, status, transitionSeconds);
    }

    AluaGroup withTransitionSeconds(int seconds) {
        return new AluaGroup(name, id, state, preferred, mode, status, seconds);
    }
}
