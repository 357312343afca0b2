package org.jtarget.core.internal.engine;

/**
 * Identity of an I_T nexus, for VPD 0x83 and persistent reservations.
 *
 * @param targetName               the target's name (SCSI target device name designator)
 * @param tpgTag                   target portal group tag (target port group designator, ALUA)
 * @param relativeTargetPortId     relative target port identifier (VPD 0x83 designator type 4), 1-based
 * @param targetPortName           target port name, e.g. {@code iqn...,t,0x0001} for iSCSI
 * @param protocolIdentifier       the fabric's SPC-4 protocol identifier
 * @param initiatorName            initiator device name
 * @param initiatorPortName        initiator port name, e.g. {@code iqn...,i,0x23d000000001}
 * @param transportId              the initiator port's TransportID (SPC-4 7.6.4)
 */
public record NexusInfo(String targetName, int tpgTag, int relativeTargetPortId, String targetPortName,
                        int protocolIdentifier, String initiatorName, String initiatorPortName, byte[] transportId) {
}
