package org.jtarget.core.internal.pr;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;

/**
 * The persistent reservation of one logical unit and its registrations (SPC-4 5.9): the state and the
 * rules of each PERSISTENT RESERVE OUT service action. {@link ReserveOut} decodes the commands and
 * delivers what a change sets off (unit attentions, aborted tasks); {@link ReserveIn} reports the state;
 * {@link ConflictTable} says which commands a reservation keeps out. Registrations belong to I_T nexuses
 * named by initiator port and target port, so they outlive a session (SPC-4 5.9.6); with APTPL they also
 * outlive a restart ({@link PrStore}).
 */
public final class PersistentReservations {
    /** Reservation types (SPC-4 6.16.2, table 204). */
    public static final int WRITE_EXCLUSIVE = 1, EXCLUSIVE_ACCESS = 3, WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 5,
            EXCLUSIVE_ACCESS_REGISTRANTS_ONLY = 6, WRITE_EXCLUSIVE_ALL_REGISTRANTS = 7,
            EXCLUSIVE_ACCESS_ALL_REGISTRANTS = 8;
    /** PERSISTENT RESERVE OUT service actions (SPC-4 6.16.2). */
    public static final int REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5,
            REGISTER_AND_IGNORE = 6, REGISTER_AND_MOVE = 7;
    /** Bound on registrations per LU: beyond it INSUFFICIENT REGISTRATION RESOURCES (SPC-4 5.9.7). */
    static final int MAX_REGISTRATIONS = 2048;

    private final List<Registration> registrations = new ArrayList<>(); // guarded by this
    private int generation; // guarded by this: PRGENERATION, a wrapping 32-bit counter
    private int type; // guarded by this: 0 when nothing is reserved
    private Registration holder; // guarded by this: the holder of a non-all-registrants reservation
    private PrStore store; // guarded by this; null: persist through power loss not offered
    private boolean aptpl; // guarded by this: the APTPL bit of the last registering command (SPC-4 5.9.6)
    /** Whether anything is registered: without, no command conflicts and the gate takes no lock. */
    private volatile boolean engaged;

    /**
     * What a change sets off, delivered by {@link ReserveOut} once the state lock is released: unit
     * attentions to the I_T nexuses of given registrations and the tasks of preempted ones to abort.
     */
    record Effects(List<Notice> notices, List<Registration> abort) {
        static final Effects NONE = new Effects(List.of(), List.of());
    }

    /** {@code reason} for every I_T nexus one of {@code to} names, except the one that issued the command. */
    record Notice(List<Registration> to, SenseReason reason) {
    }

    /** A copy of the state for the shell and for READ FULL STATUS. */
    public record Status(int generation, int type, Registration holder, List<Registration> registrations,
                         boolean aptpl, boolean persistenceOffered) {
        /** Whether {@code r} holds the reservation (all-registrants types: every registrant). */
        public boolean holds(Registration r) {
            return type != 0 && (allRegistrants(type) || r.equals(holder));
        }
    }

    /**
     * Offers persist through power loss with {@code s} as the LU's file, restoring what it holds (the
     * state an APTPL registration saved before a restart).
     *
     * @return a line for the log when the file could not be read, else null
     */
    public synchronized String persistTo(PrStore s) {
        store = s;
        try {
            PrStore.Snapshot snap = s.load();
            if (snap == null) {
                return null;
            }
            registrations.clear();
            registrations.addAll(snap.registrations());
            generation = snap.generation();
            type = snap.type();
            holder = snap.holder() < 0 ? null : registrations.get(snap.holder());
            aptpl = true;
            engaged = !registrations.isEmpty();
            return null;
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    synchronized boolean persistenceOffered() {
        return store != null;
    }

    /** After every change: saves (APTPL set) or forgets (cleared) the state; guarded by this. */
    private void persist() {
        engaged = !registrations.isEmpty();
        if (store == null) {
            return;
        }
        try {
            if (aptpl) {
                store.save(new PrStore.Snapshot(generation, type, holder == null ? -1 : registrations.indexOf(holder),
                        List.copyOf(registrations)));
            } else {
                store.delete();
            }
        } catch (java.io.IOException e) {
            org.slf4j.LoggerFactory.getLogger(PersistentReservations.class)
                    .error("Cannot save persistent reservations to {}: {}", store.file(), e.toString());
        }
    }

    public synchronized Status status() {
        return new Status(generation, type, holder, List.copyOf(registrations), aptpl, store != null);
    }

    static boolean allRegistrants(int type) {
        return type == WRITE_EXCLUSIVE_ALL_REGISTRANTS || type == EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
    }

    static boolean registrantsOnly(int type) {
        return type == WRITE_EXCLUSIVE_REGISTRANTS_ONLY || type == EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
    }

    static boolean validType(int t) {
        return t == WRITE_EXCLUSIVE || t == EXCLUSIVE_ACCESS || (t >= 5 && t <= 8);
    }

    /** The name SPC-4 gives a reservation type, for the shell. */
    public static String typeName(int t) {
        return switch (t) {
            case 0 -> "none";
            case WRITE_EXCLUSIVE -> "Write Exclusive";
            case EXCLUSIVE_ACCESS -> "Exclusive Access";
            case WRITE_EXCLUSIVE_REGISTRANTS_ONLY -> "Write Exclusive - Registrants Only";
            case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY -> "Exclusive Access - Registrants Only";
            case WRITE_EXCLUSIVE_ALL_REGISTRANTS -> "Write Exclusive - All Registrants";
            case EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> "Exclusive Access - All Registrants";
            default -> "type " + t;
        };
    }

    /** The registration of the I_T nexus {@code n}, or null. */
    private Registration registrationOf(NexusInfo n) {
        for (Registration r : registrations) {
            if (r.matches(n)) {
                return r;
            }
        }
        return null;
    }

    private boolean isHolder(NexusInfo n) {
        if (type == 0) {
            return false;
        }
        return allRegistrants(type) ? registrationOf(n) != null : holder != null && holder.matches(n);
    }

    /**
     * The reservation gate: whether {@code p} from the I_T nexus {@code nexus} conflicts with the
     * persistent reservation (or, for SPC-2 RESERVE and RELEASE, with any registration).
     */
    public boolean conflicts(NexusInfo nexus, ParsedCommand p) {
        if (!engaged) {
            return false; // no registration, so no reservation either
        }
        synchronized (this) {
            return conflictsLocked(nexus, p);
        }
    }

    private boolean conflictsLocked(NexusInfo nexus, ParsedCommand p) {
        ConflictTable.Access a = ConflictTable.classify(p.cdb());
        if (a == ConflictTable.Access.SPC2) {
            return !registrations.isEmpty();
        }
        if (type == 0 || isHolder(nexus)) {
            return false;
        }
        return ConflictTable.conflicts(a, type, registrationOf(nexus) != null);
    }

    // ---------------------------------------------------------------- service actions (SPC-4 5.9.7 - 5.9.11)

    /**
     * REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.9.7), with the I_T nexuses a SPEC_I_PT list
     * names (all or none of them) and ALL_TG_PT.
     *
     * @param specified the initiators of the SPEC_I_PT list, or null without SPEC_I_PT
     * @return null for RESERVATION CONFLICT
     */
    synchronized Effects register(NexusInfo n, int sa, long key, long saKey, boolean allTargetPorts, boolean aptplBit,
                                  List<TransportIds.Initiator> specified) {
        Registration mine = registrationOf(n);
        if (sa == REGISTER && (mine == null ? key != 0 : key != mine.key())) {
            return null;
        }
        if (specified != null && mine != null) { // SPC-4 5.9.7: SPEC_I_PT only from an unregistered I_T nexus
            throw Sense.invalidParameterField(20, 3).exception();
        }
        if (saKey == 0) {
            if (specified != null) {
                throw Sense.invalidParameterField(8, -1).exception();
            }
            if (mine == null) {
                return Effects.NONE; // nothing registered, nothing to do (SPC-4 5.9.7)
            }
            Effects e = unregister(mine);
            generation++;
            aptpl = aptplBit;
            persist();
            return e;
        }
        if (mine != null) {
            replace(mine, mine.withKey(saKey));
        } else {
            List<Registration> adds = new ArrayList<>();
            adds.add(Registration.of(saKey, n, allTargetPorts));
            if (specified != null) {
                for (TransportIds.Initiator i : specified) {
                    Registration r = new Registration(saKey, i.name(), i.isid(), n.targetName(),
                            allTargetPorts ? null : n.targetPortName(), allTargetPorts ? 0 : n.relativeTargetPortId());
                    if (adds.stream().anyMatch(r::sameNexus)) {
                        continue; // the issuing I_T nexus, or named twice
                    }
                    if (registrations.stream().anyMatch(r::overlaps)) {
                        return null; // SPC-4 6.16.3: an I_T nexus the list names is registered already
                    }
                    adds.add(r);
                }
            }
            if (registrations.size() + adds.size() > MAX_REGISTRATIONS) {
                throw Sense.of(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES).exception();
            }
            registrations.addAll(adds);
        }
        generation++;
        aptpl = aptplBit;
        persist();
        return Effects.NONE;
    }

    /** Replaces a registration (a new key), keeping its place and its hold on the reservation. */
    private void replace(Registration old, Registration now) {
        registrations.set(registrations.indexOf(old), now);
        if (old.equals(holder)) {
            holder = now;
        }
    }

    /** Removes a registration; the holder leaving releases a non-shared reservation (SPC-4 5.9.11.3). */
    private Effects unregister(Registration mine) {
        registrations.remove(mine);
        if (type == 0) {
            return Effects.NONE;
        }
        if (allRegistrants(type)) {
            if (registrations.isEmpty()) {
                type = 0; // the last registrant took the reservation with it
            }
            return Effects.NONE;
        }
        if (!mine.equals(holder)) {
            return Effects.NONE;
        }
        boolean announce = registrantsOnly(type);
        type = 0;
        holder = null;
        return announce ? notice(List.copyOf(registrations), SenseReason.RESERVATIONS_RELEASED) : Effects.NONE;
    }

    private static Effects notice(List<Registration> to, SenseReason reason) {
        return to.isEmpty() ? Effects.NONE : new Effects(List.of(new Notice(to, reason)), List.of());
    }

    /** The issuer's registration when it is registered with {@code key}, else null (RESERVATION CONFLICT). */
    private Registration checkKey(NexusInfo n, long key) {
        Registration mine = registrationOf(n);
        return mine != null && mine.key() == key ? mine : null;
    }

    private static void checkScopeAndType(int scope, int prType) {
        if (scope != 0) {
            throw Sense.invalidCdbField(2, 7).exception(); // only LU_SCOPE (SPC-4 6.16.2)
        }
        if (!validType(prType)) {
            throw Sense.invalidCdbField(2, 3).exception();
        }
    }

    /** RESERVE (SPC-4 5.9.9); null for RESERVATION CONFLICT. */
    synchronized Effects reserve(NexusInfo n, long key, int scope, int prType) {
        Registration mine = checkKey(n, key);
        if (mine == null) {
            return null;
        }
        checkScopeAndType(scope, prType);
        if (type != 0) {
            return isHolder(n) && type == prType ? Effects.NONE : null;
        }
        type = prType;
        holder = allRegistrants(prType) ? null : mine;
        persist();
        return Effects.NONE;
    }

    /** RELEASE (SPC-4 5.9.11.2); null for RESERVATION CONFLICT. */
    synchronized Effects release(NexusInfo n, long key, int scope, int prType) {
        if (checkKey(n, key) == null) {
            return null;
        }
        if (type == 0 || !isHolder(n)) {
            return Effects.NONE; // nothing to release: GOOD, nothing changes
        }
        if (scope != 0 || prType != type) {
            throw Sense.of(SenseReason.INVALID_RELEASE_OF_PERSISTENT_RESERVATION).exception();
        }
        boolean announce = registrantsOnly(type) || allRegistrants(type);
        type = 0;
        holder = null;
        persist();
        return announce ? notice(List.copyOf(registrations), SenseReason.RESERVATIONS_RELEASED) : Effects.NONE;
    }

    /** CLEAR (SPC-4 5.9.11.6); null for RESERVATION CONFLICT. */
    synchronized Effects clear(NexusInfo n, long key) {
        if (checkKey(n, key) == null) {
            return null;
        }
        return clearAll();
    }

    /**
     * The administrator's override (the shell's {@code pr:clear}): as a CLEAR from outside every I_T
     * nexus, so every registrant hears RESERVATIONS PREEMPTED.
     */
    public Effects clearAll() {
        synchronized (this) {
            Effects e = notice(List.copyOf(registrations), SenseReason.RESERVATIONS_PREEMPTED);
            registrations.clear();
            type = 0;
            holder = null;
            generation++;
            persist();
            return e;
        }
    }

    /**
     * PREEMPT and PREEMPT AND ABORT (SPC-4 5.9.11.4, 5.9.11.5); null for RESERVATION CONFLICT.
     * {@link Effects#abort()} lists the preempted registrations when {@code abort}.
     */
    synchronized Effects preempt(NexusInfo n, long key, long saKey, int scope, int prType, boolean abort) {
        Registration mine = checkKey(n, key);
        if (mine == null) {
            return null;
        }
        List<Notice> notices = new ArrayList<>();
        List<Registration> removed;
        boolean takesReservation = type != 0 && (allRegistrants(type) ? saKey == 0
                : holder != null && holder.key() == saKey);
        if (saKey == 0 && !takesReservation) {
            throw Sense.invalidParameterField(8, -1).exception(); // SPC-4 5.9.11.4.3/5.9.11.4.4
        }
        if (takesReservation) {
            checkScopeAndType(scope, prType);
            removed = allRegistrants(type) ? removeAllBut(mine) : removeWithKey(saKey, mine);
            boolean changed = prType != type;
            type = prType;
            holder = allRegistrants(prType) ? null : mine;
            if (changed) { // SPC-4 5.9.11.4.3: a new type or scope releases the old reservation for the others
                List<Registration> others = new ArrayList<>(registrations);
                others.remove(mine);
                if (!others.isEmpty()) {
                    notices.add(new Notice(others, SenseReason.RESERVATIONS_RELEASED));
                }
            }
        } else {
            // SPC-4 5.9.11.4.4: every registration with that key goes, the issuer's too (but under an
            // all-registrants reservation, whose holder the issuer is)
            removed = removeWithKey(saKey, allRegistrants(type) ? mine : null);
            if (removed.isEmpty()) {
                return null; // no registration has that key
            }
        }
        if (!removed.isEmpty()) {
            notices.add(0, new Notice(removed, SenseReason.REGISTRATIONS_PREEMPTED));
        }
        generation++;
        persist();
        return new Effects(notices, abort ? removed : List.of());
    }

    private List<Registration> removeWithKey(long saKey, Registration keep) {
        List<Registration> removed = new ArrayList<>();
        for (Iterator<Registration> it = registrations.iterator(); it.hasNext(); ) {
            Registration r = it.next();
            if (r.key() == saKey && !r.equals(keep)) {
                it.remove();
                removed.add(r);
            }
        }
        return removed;
    }

    private List<Registration> removeAllBut(Registration keep) {
        List<Registration> removed = new ArrayList<>(registrations);
        removed.remove(keep);
        registrations.retainAll(List.of(keep));
        return removed;
    }

    /**
     * REGISTER AND MOVE (SPC-4 5.9.8): the holder registers the I_T nexus {@code dest} names with
     * {@code saKey} and hands it the reservation, as type {@code prType}; {@code unreg} then unregisters
     * the holder. Null for RESERVATION CONFLICT.
     *
     * @param destPort the target port of the destination I_T nexus, {@code destRtpi} its identifier
     */
    synchronized Effects registerAndMove(NexusInfo n, long key, long saKey, int scope, int prType, boolean unreg,
                                         boolean aptplBit, TransportIds.Initiator dest, String destPort, int destRtpi) {
        Registration mine = checkKey(n, key);
        if (mine == null || type == 0 || !isHolder(n) || allRegistrants(type)) {
            return null; // only the holder of a reservation that is not all-registrants moves it
        }
        checkScopeAndType(scope, prType);
        if (saKey == 0) {
            throw Sense.invalidParameterField(8, -1).exception();
        }
        Registration target = new Registration(saKey, dest.name(), dest.isid(), n.targetName(), destPort, destRtpi);
        if (target.overlaps(mine)) {
            throw Sense.invalidParameterField(24, -1).exception(); // the I_T nexus it came through
        }
        Registration existing = null;
        for (Registration r : registrations) {
            if (r.sameNexus(target)) {
                existing = r;
            }
        }
        if (existing != null) {
            replace(existing, target);
        } else {
            if (registrations.size() >= MAX_REGISTRATIONS) {
                throw Sense.of(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES).exception();
            }
            registrations.add(target);
        }
        type = prType;
        holder = target;
        if (unreg) {
            registrations.remove(mine);
        }
        generation++;
        aptpl = aptplBit;
        persist();
        return Effects.NONE;
    }

    /** LOGICAL UNIT RESET leaves persistent reservations in place (SPC-4 5.9.10); nothing to do. */
    public void reset() {
    }
}
