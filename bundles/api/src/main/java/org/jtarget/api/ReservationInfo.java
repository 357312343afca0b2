package org.jtarget.api;

import java.util.List;

/**
 * The SPC-4 persistent reservation of one backstore object (logical unit), as {@code pr:show} prints it.
 *
 * @param backstore          the backstore object's name
 * @param generation         PRGENERATION (SPC-4 6.15.2): counts registration changes
 * @param type               the reservation type code (SPC-4 6.16.2: 1, 3, 5, 6, 7, 8), 0 when nothing is reserved
 * @param typeName           the type as SPC-4 names it, e.g. "Write Exclusive - Registrants Only", or "none"
 * @param aptpl              whether the state persists through a restart (APTPL of the last registration)
 * @param registrations      the registrations in the order they were made
 * @since 1.2
 */
public record ReservationInfo(String backstore, long generation, int type, String typeName, boolean aptpl,
                              List<Registration> registrations) {
    public ReservationInfo {
        registrations = List.copyOf(registrations);
    }

    /**
     * One registration: a reservation key held by the I_T nexuses between an initiator port and a target port.
     *
     * @param key                  the reservation key, 16 hex digits
     * @param initiatorPort        the initiator port name ({@code iqn...,i,0x<ISID>}), or the initiator name
     *                             when it stands for every port of that initiator
     * @param targetPort           the target port name ({@code iqn...,t,0x<TPGT>}), or the target name followed
     *                             by " (all target ports)" for an ALL_TG_PT registration
     * @param relativeTargetPortId the RELATIVE TARGET PORT IDENTIFIER, 0 for all target ports
     * @param transportId          the initiator's TransportID (SPC-4 7.6.4.6) in hex
     * @param holder               whether it holds the reservation
     */
    public record Registration(String key, String initiatorPort, String targetPort, int relativeTargetPortId,
                               String transportId, boolean holder) {
    }
}
