package org.jtarget.core.internal.engine;

import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiSession;

/** The SCSI device server as the registry drives it. Implemented by the command-set side. */
public interface ScsiEngine {
    /**
     * Creates the logical unit for one backstore object, offline until
     * {@link LogicalUnit#attach} gives it a backstore.
     *
     * @param name   the backstore object's name
     * @param serial its unit serial number (VPD 0x80); also the seed of its NAA designator (VPD 0x83)
     */
    LogicalUnit createLogicalUnit(String name, String serial);

    /**
     * Opens an I_T nexus. The engine reads LUNs through {@code luns} on every command, so LUN changes
     * take effect at once. The nexus starts with a POWER ON OCCURRED unit attention on each LU.
     */
    Nexus openNexus(NexusInfo info, LunMap luns, FabricSession fabricSession);

    /** A session as the registry tracks it: the fabric's {@link ScsiSession} plus change notices. */
    interface Nexus extends ScsiSession {
        NexusInfo info();

        /** The TPG's LUN inventory changed: queue REPORTED LUNS DATA HAS CHANGED (SPC-4 6.29). */
        void lunsChanged();
    }
}
