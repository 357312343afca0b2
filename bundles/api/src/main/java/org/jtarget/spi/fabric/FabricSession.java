package org.jtarget.spi.fabric;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The fabric's side of an I_T nexus, implemented by the fabric and given to {@link TargetCore#openSession}.
 * The core calls its getters from any thread.
 */
@ConsumerType
public interface FabricSession {
    /** The initiator's SCSI name, e.g. {@code iqn.1994-05.com.redhat:client}. */
    String initiatorName();

    /**
     * The initiator port's TransportID (SPC-4 7.6.4) for persistent reservations; for iSCSI the format
     * 01b form with {@code name + ",i,0x" + ISID}.
     */
    byte[] transportId();

    /** The initiator port name for VPD/PR displays, e.g. {@code iqn...,i,0x23d000000001}. */
    String initiatorPortName();

    /**
     * Ends the session from the target side (ACL, TPG or target removed). Called by the core from any
     * thread, not under its configuration lock; the fabric closes its connection and calls
     * {@link ScsiSession#close()}. In-flight commands are aborted (their tasks get {@link ScsiTask#aborted()}).
     */
    void close();
}
