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

    /** Stops listening on an address and closes the connections accepted on it. */
    void stopPortal(InetSocketAddress address);
}
