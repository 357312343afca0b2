package org.jtarget.api;

import java.util.Objects;

/**
 * An ALUA target port group of one logical unit (SPC-4 5.15): the target ports through which the LU is
 * reached with the same asymmetric access state. Every LU has the group {@value #DEFAULT_NAME} (id
 * {@value #DEFAULT_ID}); a LUN reaches its LU through that group unless it is mapped to another one.
 *
 * @param name      the group's name, unique within the LU
 * @param id        TARGET PORT GROUP as REPORT TARGET PORT GROUPS and VPD 83h report it (1..65535), unique
 *                  within the LU
 * @param state     {@value #ACTIVE_OPTIMIZED}, {@value #ACTIVE_NONOPTIMIZED}, {@value #STANDBY},
 *                  {@value #UNAVAILABLE} or {@value #OFFLINE}
 * @param preferred the PREF bit: the group is the preferred path (SPC-4 6.37)
 * @param mode      the transitions the group supports: {@value #IMPLICIT} (the target changes states; the TPGS
 *                  field reports 01b), {@value #EXPLICIT} (initiators change them with SET TARGET PORT GROUPS;
 *                  10b) or {@value #BOTH} (11b)
 * @param status    STATUS CODE of REPORT TARGET PORT GROUPS, kept with the state: 0 no status, 1 altered by SET
 *                  TARGET PORT GROUPS, 2 altered by implicit behaviour (an administrator's change)
 * @param transitionTime IMPLICIT TRANSITION TIME in seconds (0..255; {@value #DEFAULT_TRANSITION_TIME} unless set):
 *                  the longest a transition of the group's state lasts, reported in REPORT TARGET PORT GROUPS'
 *                  extended header (the LU reports the longest of its groups)
 * @since 1.2
 */
public record AluaGroupInfo(String name, int id, String state, boolean preferred, String mode, int status,
                            int transitionTime) {
    public static final String DEFAULT_NAME = "default_tg_pt_gp";
    public static final int DEFAULT_ID = 1;
    public static final String ACTIVE_OPTIMIZED = "active_optimized";
    public static final String ACTIVE_NONOPTIMIZED = "active_nonoptimized";
    public static final String STANDBY = "standby";
    public static final String UNAVAILABLE = "unavailable";
    public static final String OFFLINE = "offline";
    public static final String IMPLICIT = "implicit";
    public static final String EXPLICIT = "explicit";
    public static final String BOTH = "both";
    public static final int DEFAULT_TRANSITION_TIME = 2;

    public AluaGroupInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(mode, "mode");
    }

    /** A group with no status and the default transition time. */
    public AluaGroupInfo(String name, int id, String state, boolean preferred, String mode) {
        this(name, id, state, preferred, mode, 0, DEFAULT_TRANSITION_TIME);
    }
}
