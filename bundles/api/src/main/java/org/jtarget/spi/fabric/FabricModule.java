package org.jtarget.spi.fabric;

import java.net.InetSocketAddress;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A transport module (LIO's target_core_fabric_ops), registered as an OSGi service with the property
 * {@value #NAME_PROPERTY} equal to {@link #name()}. The core finds fabrics on the service whiteboard,
 * starts the portals configured for them and, when a fabric leaves, forgets its listeners.
 *
 * <p>The fabric accepts connections on the portals the core starts, logs initiators in with the help of
 * {@link TargetCore}, and submits commands through the {@link ScsiSession} it obtains there.
 *
 * <p>Life cycle: the core binds the service dynamically. When it arrives, the core calls
 * {@link #startPortal} for every address configured for targets of {@link #name()} (including targets
 * created while the fabric was absent: their configuration waits for it). When the service is unregistered,
 * the core calls nothing on it: the fabric closes its listeners, connections and the {@link ScsiSession}s it
 * opened itself (in its deactivate method), and the core's targets of this fabric wait for its return.
 * {@link #startPortal} and {@link #stopPortal} are called with the core's configuration lock held (see the
 * package comment): bind or close and return.
 */
@ConsumerType
public interface FabricModule {
    /** Service property naming the fabric. */
    String NAME_PROPERTY = "fabric.name";

    /** The fabric's name users type in the shell, e.g. {@code iscsi}. */
    String name();

    /** SPC-4 protocol identifier (7.6.1, table 401), e.g. 5 for iSCSI; used in VPD 0x83 and TransportIDs. */
    int protocolIdentifier();

    /**
     * Checks a target name for this fabric (e.g. iSCSI iqn./eui./naa. names, RFC 7143 4.2.7).
     *
     * @return null when valid, otherwise why not, for the user
     */
    String validateTargetName(String name);

    /**
     * Starts listening on an address. The core calls this once per distinct address of this fabric,
     * however many TPGs share it, and again after the fabric returns.
     *
     * @throws FabricException when the address cannot be bound; the message is shown to the user
     */
    void startPortal(InetSocketAddress address) throws FabricException;

    /**
     * Stops listening on an address and closes the connections accepted on it (their sessions closed with
     * {@link ScsiSession#close()}). Called when the last TPG using the address drops it, and at shutdown.
     */
    void stopPortal(InetSocketAddress address);
}
