package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.ScsiNexus;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * Persistent reservations of one logical unit (SPC-4 5.9, PERSISTENT RESERVE IN 6.15 and OUT 6.16;
 * LIO target_core_pr.c). Registrations belong to I_T nexuses named by initiator and target port, so
 * they outlive a session (SPC-4 5.9.6). Not persisted across power loss (PTPL_C 0), no SPEC_I_PT,
 * ALL_TG_PT or REGISTER AND MOVE.
 */
public final class PersistentReservations {
    /** Reservation types (SPC-4 6.16.4, table 204). */
    public static final int WRITE_EXCLUSIVE = 1, EXCLUSIVE_ACCESS = 3, WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 5,
            EXCLUSIVE_ACCESS_REGISTRANTS_ONLY = 6, WRITE_EXCLUSIVE_ALL_REGISTRANTS = 7,
            EXCLUSIVE_ACCESS_ALL_REGISTRANTS = 8;
    /** PERSISTENT RESERVE OUT service actions (SPC-4 6.16.2). */
    static final int REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5,
            REGISTER_AND_IGNORE = 6;
    /** PERSISTENT RESERVE IN service actions (SPC-4 6.15.1). */
    static final int READ_KEYS = 0, READ_RESERVATION = 1, REPORT_CAPABILITIES = 2, READ_FULL_STATUS = 3;

    private record Registration(long key, NexusInfo info) {
    }

    private final Map<String, Registration> registrations = new LinkedHashMap<>(); // guarded by this
    private int generation; // guarded by this
    private String holder; // nexus id, or null; for all-registrants types any registrant holds it
    private int type; // 0: no reservation
    private PrStore store; // guarded by this; null: persist through power loss not offered
    private boolean aptpl; // guarded by this: the APTPL bit of the last REGISTER (SPC-4 5.9.6)

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
            for (PrStore.Saved r : snap.registrations()) {
                registrations.put(id(r.info()), new Registration(r.key(), r.info()));
            }
            generation = snap.generation();
            type = snap.type();
            holder = snap.holder();
            aptpl = true;
            return null;
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    /** Saves (APTPL set) or forgets (cleared) the state after a change; guarded by this. */
    private void persist() {
        if (store == null) {
            return;
        }
        try {
            if (aptpl) {
                List<PrStore.Saved> saved = new ArrayList<>();
                registrations.values().forEach(r -> saved.add(new PrStore.Saved(r.key, r.info)));
                store.save(new PrStore.Snapshot(generation, type, holder, saved));
            } else {
                store.delete();
            }
        } catch (java.io.IOException e) {
            org.slf4j.LoggerFactory.getLogger(PersistentReservations.class)
                    .error("Cannot save persistent reservations to {}: {}", store.file(), e.toString());
        }
    }

    static String id(NexusInfo n) {
        return n.initiatorPortName() + "|" + n.targetPortName();
    }

    private static boolean allRegistrants(int type) {
        return type == WRITE_EXCLUSIVE_ALL_REGISTRANTS || type == EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
    }

    private static boolean registrantsOnly(int type) {
        return type == WRITE_EXCLUSIVE_REGISTRANTS_ONLY || type == EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
    }

    public synchronized boolean hasRegistrations() {
        return !registrations.isEmpty();
    }

    private boolean isHolder(String id) {
        return type != 0 && (allRegistrants(type) ? registrations.containsKey(id) : id.equals(holder));
    }

    /**
     * Whether {@code d} from {@code nexus} conflicts with the persistent reservation (SPC-4 5.9.1,
     * table 49): write exclusive types let others read, exclusive access types let them do nothing;
     * registrants-only and all-registrants types treat registrants like the holder.
     */
    public synchronized boolean conflicts(NexusInfo nexus, OpcodeDescriptor d) {
        if (type == 0 || d.hasFlag(OpcodeDescriptor.PR_EXEMPT)) {
            return false;
        }
        String id = id(nexus);
        if (isHolder(id) || ((registrantsOnly(type) || allRegistrants(type)) && registrations.containsKey(id))) {
            return false;
        }
        boolean writeExclusive = type == WRITE_EXCLUSIVE || type == WRITE_EXCLUSIVE_REGISTRANTS_ONLY
                || type == WRITE_EXCLUSIVE_ALL_REGISTRANTS;
        return !(writeExclusive && d.hasFlag(OpcodeDescriptor.READS));
    }

    // ---------------------------------------------------------------- PERSISTENT RESERVE IN

    public static CompletionStage<ScsiResponse> in(Command c) {
        return c.lu().persistentReservations().in(c, c.cdb().u8(1) & 0x1F);
    }

    private synchronized CompletionStage<ScsiResponse> in(Command c, int sa) {
        ByteBuf b;
        switch (sa) {
            case READ_KEYS -> { // SPC-4 6.15.2
                b = Command.allocate(8 + 8 * registrations.size());
                b.writeInt(generation).writeInt(8 * registrations.size());
                for (Registration r : registrations.values()) {
                    b.writeLong(r.key);
                }
            }
            case READ_RESERVATION -> { // SPC-4 6.15.3
                b = Command.allocate(24);
                b.writeInt(generation);
                if (type == 0) {
                    b.writeInt(0);
                } else {
                    Registration r = holder == null ? null : registrations.get(holder);
                    b.writeInt(16);
                    b.writeLong(allRegistrants(type) || r == null ? 0 : r.key); // all registrants: key 0
                    b.writeInt(0).writeByte(0).writeByte(type).writeShort(0); // SCOPE 0h (LU), TYPE
                }
            }
            case REPORT_CAPABILITIES -> { // SPC-4 6.15.4
                b = Command.allocate(8);
                b.writeShort(8);
                b.writeByte(store != null ? 0x01 : 0x00); // RLR_C CRH SIP_C ATP_C 0, PTPL_C
                b.writeByte(0x80 | (aptpl ? 0x01 : 0)); // TMV; ALLOW COMMANDS 000b; PTPL_A
                b.writeByte(0x80 | 0x40 | 0x20 | 0x08 | 0x02); // WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX
                b.writeByte(0x01); // EX_AC_AR
                b.writeShort(0);
            }
            case READ_FULL_STATUS -> { // SPC-4 6.15.5
                b = Command.allocate(8 + registrations.size() * 64);
                b.writeInt(generation).writeInt(0);
                for (Map.Entry<String, Registration> e : registrations.entrySet()) {
                    Registration r = e.getValue();
                    byte[] tid = r.info.transportId() == null ? new byte[0] : r.info.transportId();
                    b.writeLong(r.key).writeInt(0);
                    b.writeByte(isHolder(e.getKey()) ? 0x01 : 0); // R_HOLDER
                    b.writeByte(isHolder(e.getKey()) ? type : 0);
                    b.writeInt(0).writeShort(r.info.relativeTargetPortId());
                    b.writeInt(tid.length).writeBytes(tid);
                }
                b.setInt(4, b.writerIndex() - 8);
            }
            default -> throw Sense.invalidCdbField(1, 4).exception();
        }
        return c.respond(b);
    }

    // ---------------------------------------------------------------- PERSISTENT RESERVE OUT

    public static CompletionStage<ScsiResponse> out(Command c) {
        Cdb cdb = c.cdb();
        int len = c.dataOutLength();
        if (c.parsed().dataOutLength() != 24 || len != 24) { // SPC-4 6.16.3: basic parameter list
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        ByteBuf p = c.dataOut();
        int base = p.readerIndex();
        long key = p.getLong(base);
        long saKey = p.getLong(base + 8);
        int flags = p.getUnsignedByte(base + 20);
        if ((flags & 0x08) != 0) { // SPEC_I_PT: SIP_C 0
            throw Sense.invalidParameterField(20, 3).exception();
        }
        if ((flags & 0x04) != 0) { // ALL_TG_PT: ATP_C 0
            throw Sense.invalidParameterField(20, 2).exception();
        }
        boolean aptplBit = (flags & 0x01) != 0;
        ScsiLogicalUnit lu = c.lu();
        if (aptplBit && !lu.persistentReservations().persistenceOffered()) { // APTPL with PTPL_C 0
            throw Sense.invalidParameterField(20, 0).exception();
        }
        int sa = cdb.u8(1) & 0x1F;
        int scope = cdb.u8(2) >>> 4;
        int prType = cdb.u8(2) & 0x0F;
        boolean ok = lu.persistentReservations().out(c.nexus(), lu, sa, scope, prType, key, saKey, aptplBit);
        if (!ok) {
            return CompletableFuture.completedFuture(new ScsiResponse(ScsiStatus.RESERVATION_CONFLICT, null, null, 0));
        }
        return c.good();
    }

    synchronized boolean persistenceOffered() {
        return store != null;
    }

    private static boolean validType(int t) {
        return t == WRITE_EXCLUSIVE || t == EXCLUSIVE_ACCESS || (t >= 5 && t <= 8);
    }

    /** @return false for RESERVATION CONFLICT */
    private boolean out(ScsiNexus nexus, ScsiLogicalUnit lu, int sa, int scope, int prType, long key, long saKey,
                        boolean aptplBit) {
        String id = id(nexus.info());
        List<ScsiNexus> notifyReleased = new ArrayList<>();
        List<String> preempted = new ArrayList<>();
        synchronized (this) {
            Registration mine = registrations.get(id);
            if (sa == REGISTER || sa == REGISTER_AND_IGNORE) { // SPC-4 5.9.7
                if (sa == REGISTER && (mine == null ? key != 0 : key != mine.key)) {
                    return false;
                }
                if (saKey == 0) {
                    if (mine != null) {
                        unregister(id, lu, nexus, notifyReleased);
                        generation++;
                    }
                } else {
                    registrations.put(id, new Registration(saKey, nexus.info()));
                    generation++;
                }
                aptpl = aptplBit; // SPC-4 5.9.6: the last valid REGISTER decides
            } else {
                if (mine == null || key != mine.key) {
                    return false;
                }
                switch (sa) {
                    case RESERVE -> { // SPC-4 5.9.9
                        if (scope != 0) {
                            throw Sense.invalidCdbField(2, 7).exception();
                        }
                        if (!validType(prType)) {
                            throw Sense.invalidCdbField(2, 3).exception();
                        }
                        if (type != 0) {
                            return isHolder(id) && type == prType;
                        }
                        type = prType;
                        holder = id;
                    }
                    case RELEASE -> { // SPC-4 5.9.11.2
                        if (type == 0 || !isHolder(id)) {
                            break;
                        }
                        if (scope != 0 || prType != type) {
                            throw Sense.of(SenseReason.INVALID_RELEASE_OF_PERSISTENT_RESERVATION).exception();
                        }
                        boolean announce = registrantsOnly(type) || allRegistrants(type);
                        type = 0;
                        holder = null;
                        if (announce) {
                            others(lu, id, notifyReleased);
                        }
                    }
                    case CLEAR -> { // SPC-4 5.9.11.6
                        for (String other : registrations.keySet()) {
                            if (!other.equals(id)) {
                                preempted.add(other);
                            }
                        }
                        registrations.clear();
                        type = 0;
                        holder = null;
                        generation++;
                    }
                    case PREEMPT, PREEMPT_AND_ABORT -> { // SPC-4 5.9.11.4
                        if (type != 0 && !validType(prType)) {
                            throw Sense.invalidCdbField(2, 3).exception();
                        }
                        if (!preempt(id, saKey, prType, preempted)) {
                            return false;
                        }
                        generation++;
                    }
                    default -> throw Sense.invalidCdbField(1, 4).exception();
                }
            }
            persist();
        }
        for (ScsiNexus n : notifyReleased) {
            lu.unitAttentions().raise(n, SenseReason.RESERVATIONS_RELEASED);
        }
        if (!preempted.isEmpty()) {
            for (ScsiNexus n : lu.unitAttentions().nexuses()) {
                if (preempted.contains(id(n.info()))) {
                    lu.unitAttentions().raise(n, sa == CLEAR ? SenseReason.RESERVATIONS_PREEMPTED
                            : SenseReason.REGISTRATIONS_PREEMPTED);
                }
            }
        }
        return true;
    }

    private boolean preempt(String id, long saKey, int prType, List<String> preempted) {
        boolean holderKey = type != 0 && !allRegistrants(type) && holder != null
                && registrations.get(holder) != null && registrations.get(holder).key == saKey;
        if (type != 0 && allRegistrants(type) && saKey == 0) { // everyone else out, reservation taken over
            for (String other : new ArrayList<>(registrations.keySet())) {
                if (!other.equals(id)) {
                    registrations.remove(other);
                    preempted.add(other);
                }
            }
            type = prType;
            holder = id;
            return true;
        }
        if (saKey == 0) {
            throw Sense.invalidParameterField(8, -1).exception();
        }
        boolean removed = false;
        for (Map.Entry<String, Registration> e : new ArrayList<>(registrations.entrySet())) {
            if (e.getValue().key == saKey && !e.getKey().equals(id)) {
                registrations.remove(e.getKey());
                preempted.add(e.getKey());
                removed = true;
            }
        }
        if (holderKey) {
            type = prType;
            holder = id;
            return true;
        }
        return removed;
    }

    /** Removes a registration; the holder leaving releases a non-shared reservation (SPC-4 5.9.11.3). */
    private void unregister(String id, ScsiLogicalUnit lu, ScsiNexus self, List<ScsiNexus> notify) {
        boolean wasHolder = isHolder(id);
        registrations.remove(id);
        if (!wasHolder) {
            return;
        }
        if (allRegistrants(type)) {
            if (registrations.isEmpty()) {
                type = 0;
                holder = null;
            }
            return;
        }
        boolean announce = registrantsOnly(type);
        type = 0;
        holder = null;
        if (announce) {
            others(lu, id, notify);
        }
    }

    /** Registered nexuses other than {@code id} with a unit attention queue on {@code lu}. */
    private void others(ScsiLogicalUnit lu, String id, List<ScsiNexus> out) {
        for (ScsiNexus n : lu.unitAttentions().nexuses()) {
            String nid = id(n.info());
            if (!nid.equals(id) && registrations.containsKey(nid)) {
                out.add(n);
            }
        }
    }

    /** LOGICAL UNIT RESET leaves persistent reservations in place (SPC-4 5.9.10); nothing to do. */
    public void reset() {
    }
}
