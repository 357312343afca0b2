package org.jtarget.core.internal.engine;

/** The LUNs a nexus sees, read live by the engine on every command. Implemented by the registry. */
public interface LunMap {
    /** The LU mapped at {@code lun}, or null when none is (LOGICAL UNIT NOT SUPPORTED). */
    LogicalUnit get(int lun);

    /** The LUN numbers mapped now, ascending, for REPORT LUNS. */
    int[] luns();

    /**
     * The name of the target port with relative target port identifier {@code relativeTargetPortId} in
     * the target of this nexus, when a LUN there maps {@code lu}; else null (REGISTER AND MOVE names its
     * destination I_T nexus by that identifier, SPC-4 6.16.4).
     */
    default String targetPortReaching(int relativeTargetPortId, LogicalUnit lu) {
        return null;
    }
}
