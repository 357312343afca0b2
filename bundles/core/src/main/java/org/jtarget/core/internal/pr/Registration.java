package org.jtarget.core.internal.pr;

import java.util.Locale;
import org.jtarget.core.internal.engine.NexusInfo;

/**
 * One registration (SPC-4 5.9.7): a reservation key held by the I_T nexuses between one initiator port
 * and one target port. Registrations are kept by name, not by session, so they outlive a logout and,
 * with APTPL, a restart. Two wildcards: an initiator named without ISID (a TransportID of format 00b in
 * SPEC_I_PT) stands for every port of that initiator; ALL_TG_PT stands for every target port of the
 * target.
 *
 * @param key                  the reservation key, never 0
 * @param initiatorName        the iSCSI initiator name, lower case
 * @param isid                 12 lower-case hex digits, or null: any ISID
 * @param targetName           the target (SCSI target device) the registration was made in
 * @param targetPort           the target port name ({@code iqn...,t,0x0001}), or null: all target ports
 * @param relativeTargetPortId the RELATIVE TARGET PORT IDENTIFIER of that port (0 with ALL_TG_PT)
 */
public record Registration(long key, String initiatorName, String isid, String targetName, String targetPort,
                           int relativeTargetPortId) {
    /** A registration for exactly the I_T nexus {@code n} ({@code allTargetPorts}: every port of its target). */
    static Registration of(long key, NexusInfo n, boolean allTargetPorts) {
        return new Registration(key, n.initiatorName().toLowerCase(Locale.ROOT), TransportIds.isidOf(n.initiatorPortName()),
                n.targetName(), allTargetPorts ? null : n.targetPortName(), allTargetPorts ? 0 : n.relativeTargetPortId());
    }

    public boolean allTargetPorts() {
        return targetPort == null;
    }

    /** Whether the I_T nexus {@code n} is one this registration is for. */
    public boolean matches(NexusInfo n) {
        if (!initiatorName.equalsIgnoreCase(n.initiatorName())) {
            return false;
        }
        if (isid != null && !isid.equals(TransportIds.isidOf(n.initiatorPortName()))) {
            return false;
        }
        return targetPort == null ? targetName.equals(n.targetName()) : targetPort.equals(n.targetPortName());
    }

    /** Whether this and {@code o} name the same I_T nexuses (same initiator port and target port). */
    boolean sameNexus(Registration o) {
        return initiatorName.equals(o.initiatorName) && java.util.Objects.equals(isid, o.isid)
                && targetName.equals(o.targetName) && java.util.Objects.equals(targetPort, o.targetPort);
    }

    /** Whether some I_T nexus is named by both this and {@code o} (wildcards included). */
    boolean overlaps(Registration o) {
        if (!initiatorName.equals(o.initiatorName) || (isid != null && o.isid != null && !isid.equals(o.isid))) {
            return false;
        }
        return targetPort == null || o.targetPort == null ? targetName.equals(o.targetName)
                : targetPort.equals(o.targetPort);
    }

    Registration withKey(long newKey) {
        return new Registration(newKey, initiatorName, isid, targetName, targetPort, relativeTargetPortId);
    }

    /** The initiator port name, or the initiator name when any ISID matches. */
    public String initiatorPort() {
        return isid == null ? initiatorName : initiatorName + TransportIds.ISID_SEPARATOR + isid;
    }

    /** The TransportID READ FULL STATUS reports (SPC-4 6.15.5). */
    public byte[] transportId() {
        return TransportIds.encode(initiatorName, isid);
    }

    /** The I_T nexus as people read it: {@code initiator port -> target port}. */
    public String describe() {
        return initiatorPort() + " -> " + (targetPort == null ? targetName + " (all target ports)" : targetPort);
    }
}
