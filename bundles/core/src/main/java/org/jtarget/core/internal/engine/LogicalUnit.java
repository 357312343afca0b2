package org.jtarget.core.internal.engine;

import org.jtarget.spi.backstore.Backstore;

/**
 * A logical unit: one backstore object as the device server serves it, shared by every LUN that
 * maps it (reservations, mode pages and unit attentions live here). Implemented by the engine.
 */
public interface LogicalUnit {
    String name();

    String serial();

    /**
     * Brings the LU online with an opened backstore. If it was offline before (provider gone and back),
     * every nexus gets a unit attention (capacity/inquiry data may have changed).
     */
    void attach(Backstore backstore);

    /**
     * Takes the LU offline: new commands get NOT READY (LOGICAL UNIT NOT READY, MANUAL INTERVENTION
     * REQUIRED), in-flight ones finish. Returns the backstore it held (or null), which the caller
     * closes once {@link #drained()} says nothing uses it.
     */
    Backstore detach();

    /** Completes when no command started before {@link #detach()} still uses the old backstore. */
    java.util.concurrent.CompletionStage<Void> drained();

    boolean online();

    /**
     * Applies the user's attributes, live. Changing read-only raises MODE PARAMETERS CHANGED (the WP bit
     * of the mode parameter header, SPC-4 7.5.3); changing removable raises INQUIRY DATA HAS CHANGED
     * (RMB, SPC-4 6.6.2) on every nexus. Making the medium fixed again also reloads an ejected medium.
     */
    void attributes(LuAttributes attributes);

    LuAttributes attributes();

    /**
     * Offers persist through power loss for persistent reservations (APTPL, SPC-4 5.9.6) with
     * {@code file} as their store, and restores what an APTPL registration saved there.
     *
     * @return why the saved state could not be read (for the log), or null
     */
    String persistReservations(java.nio.file.Path file);

    /** The persistent reservation state (SPC-4 5.9) for the administrator ({@code pr:show}). */
    org.jtarget.api.ReservationInfo reservations();

    /**
     * Clears every registration and the reservation as a PERSISTENT RESERVE OUT CLEAR from outside would
     * (the administrator's {@code pr:clear}): every registered I_T nexus gets RESERVATIONS PREEMPTED.
     */
    void clearReservations();
    /** The ALUA target port groups of this LU and which group each port reaches it through (SPC-4 5.15). */
    org.jtarget.core.internal.alua.AluaGroups alua();
}
