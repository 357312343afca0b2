package org.jtarget.core.internal.engine;

/** The LUNs a nexus sees, read live by the engine on every command. Implemented by the registry. */
public interface LunMap {
    /** The LU mapped at {@code lun}, or null when none is (LOGICAL UNIT NOT SUPPORTED). */
    LogicalUnit get(int lun);

    /** The LUN numbers mapped now, ascending, for REPORT LUNS. */
    int[] luns();
}
