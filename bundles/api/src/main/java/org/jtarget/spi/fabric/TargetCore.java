package org.jtarget.spi.fabric;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the SCSI core offers a fabric: target lookup and sessions. Implemented by the core, registered as an
 * OSGi service; thread-safe, and no method blocks on I/O, so a fabric may call it from an event loop.
 */
@ProviderType
public interface TargetCore {
    /**
     * The TPGs of {@code fabric} that listen on {@code local} and would accept {@code initiatorName}:
     * what a SendTargets=All discovery reports to that initiator.
     */
    List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName);

    /**
     * The TPGs of {@code fabric} that listen on {@code local}, whoever connects: for limits that apply before a
     * login names its target ({@link TpgLimit#MAX_LOGINS_PER_ADDRESS}, {@link TpgLimit#LOGIN_TIMEOUT}).
     */
    default List<TpgEndpoint> endpoints(String fabric, InetSocketAddress local) {
        return List.of();
    }

    /** The TPG of target {@code targetName} that listens on {@code local}, if any. */
    Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local);

    /**
     * Opens an I_T nexus. Call after authentication succeeded. The session lives until the fabric calls
     * {@link ScsiSession#close()}, or until the core ends it from the target side (ACL, TPG or target
     * removed) by calling {@link FabricSession#close()}, after which the fabric still calls
     * {@link ScsiSession#close()} (a second close is harmless).
     *
     * @param tpg       from {@link #lookup}
     * @param initiator the fabric's side of the session (name, TransportID, forced close)
     * @throws FabricException when the initiator is not (or no longer) allowed, or the TPG is gone
     */
    ScsiSession openSession(TpgEndpoint tpg, FabricSession initiator) throws FabricException;
}
