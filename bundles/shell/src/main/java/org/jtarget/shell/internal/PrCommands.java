package org.jtarget.shell.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.ReservationInfo;
import org.jtarget.api.TargetService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code pr:*}: SPC-4 persistent reservations of a backstore (LIO's pr/ in configfs and targetcli's pr views). */
@Component(service = PrCommands.class)
@GogoCommand(scope = "pr", function = {"show", "clear"})
public final class PrCommands {
    private final TargetService service;

    @Activate
    public PrCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("shows the persistent reservation of a backstore: registrations (key, I_T nexus, TransportID), holder, type, generation, APTPL")
    public void show(@Descriptor("BACKSTORE: backstore name") String backstore) {
        ReservationInfo r = Args.call(() -> service.reservations(backstore));
        System.out.println("Backstore:    " + r.backstore());
        System.out.println("Generation:   " + r.generation());
        System.out.println("APTPL:        " + (r.aptpl() ? "yes (kept across a restart)" : "no"));
        String holder = r.type() == 0 ? "none" : r.typeName() + " (type " + r.type() + ")";
        System.out.println("Reservation:  " + holder);
        Table table = new Table("KEY", "HOLDER", "INITIATOR PORT", "TARGET PORT", "RTPI>", "TRANSPORTID");
        for (ReservationInfo.Registration g : r.registrations()) {
            table.row(g.key(), g.holder() ? "yes" : "no", g.initiatorPort(), g.targetPort().replace(' ', '_'),
                    g.relativeTargetPortId(), g.transportId());
        }
        if (table.isEmpty()) {
            System.out.println("Registrations: none");
        } else {
            System.out.print(table);
        }
    }

    @Descriptor("clears every registration and the reservation of a backstore, as PERSISTENT RESERVE OUT CLEAR would "
            + "(registered initiators get RESERVATIONS PREEMPTED)")
    public void clear(@Descriptor("BACKSTORE: backstore name") String backstore) {
        ReservationInfo before = Args.call(() -> service.reservations(backstore));
        Args.run(() -> service.clearReservations(backstore));
        System.out.println("Cleared " + before.registrations().size() + " registration(s)"
                + (before.type() == 0 ? "" : " and the " + before.typeName() + " reservation") + " of " + backstore);
    }
}
