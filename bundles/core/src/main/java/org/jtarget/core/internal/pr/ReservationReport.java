package org.jtarget.core.internal.pr;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jtarget.api.ReservationInfo;

/** The persistent reservation state as the administration API shows it ({@code pr:show}). */
public final class ReservationReport {
    private ReservationReport() {
    }

    public static ReservationInfo of(String backstore, PersistentReservations.Status s) {
        List<ReservationInfo.Registration> regs = new ArrayList<>();
        for (Registration r : s.registrations()) {
            regs.add(new ReservationInfo.Registration(String.format("0x%016x", r.key()), r.initiatorPort(),
                    r.allTargetPorts() ? r.targetName() + " (all target ports)" : r.targetPort(),
                    r.relativeTargetPortId(), HexFormat.of().formatHex(r.transportId()), s.holds(r)));
        }
        return new ReservationInfo(backstore, Integer.toUnsignedLong(s.generation()), s.type(),
                PersistentReservations.typeName(s.type()), s.aptpl(), regs);
    }
}
