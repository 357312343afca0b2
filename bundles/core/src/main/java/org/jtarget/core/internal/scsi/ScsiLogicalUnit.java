package org.jtarget.core.internal.scsi;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LuAttributes;
import org.jtarget.core.internal.spc.ModePages;
import org.jtarget.core.internal.pr.PersistentReservations;
import org.jtarget.core.internal.ua.UnitAttentions;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.ThinProvisioning;

/**
 * A logical unit as the device server serves it: its backstore binding, task set, mode pages, unit
 * attentions and SPC-2 reservation, shared by every nexus and LUN that reach it.
 */
public final class ScsiLogicalUnit implements LogicalUnit {
    private final String name;
    private final String serial;
    private final TaskSet taskSet = new TaskSet();
    private final ModePages modePages = new ModePages();
    private final UnitAttentions<ScsiNexus> unitAttentions = new UnitAttentions<>();
    private final WriteGate writeGate = new WriteGate();
    private final PersistentReservations persistentReservations = new PersistentReservations();
    private final SanitizeState sanitize = new SanitizeState();
    private final org.jtarget.core.internal.alua.AluaGroups alua = new org.jtarget.core.internal.alua.AluaGroups(
            by -> unitAttentions.raiseAll(SenseReason.ASYMMETRIC_ACCESS_STATE_CHANGED, by instanceof ScsiNexus n ? n : null));
    private volatile byte[] naa;
    private final Object lock = new Object();
    private Binding binding; // guarded by lock
    private boolean everAttached; // guarded by lock
    private volatile Binding current;
    private volatile int lastBlockSize = 512;
    private volatile long lastBlockCount;
    private volatile ScsiNexus reservationHolder;
    private volatile LuAttributes attributes = LuAttributes.DEFAULT;
    /** The removable medium was unloaded (START STOP UNIT with LOEJ, SBC-3 5.25). */
    private volatile boolean ejected;
    /** I_T nexuses that prevent medium removal (SBC-3 5.13: the prevent state is per I_T nexus). */
    private final java.util.Set<ScsiNexus> preventing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public ScsiLogicalUnit(String name, String serial) {
        this.name = Objects.requireNonNull(name, "name");
        this.serial = Objects.requireNonNull(serial, "serial");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String serial() {
        return serial;
    }

    /** The NAA designator of VPD 0x83 (16 bytes), by which EXTENDED COPY names this LU. */
    public byte[] naa() {
        byte[] n = naa;
        if (n == null) {
            n = org.jtarget.core.internal.spc.Inquiry.naa(serial);
            naa = n;
        }
        return n;
    }

    @Override
    public void attach(Backstore backstore) {
        Objects.requireNonNull(backstore, "backstore");
        boolean wasOffline;
        long oldCount;
        int oldSize;
        synchronized (lock) {
            if (binding != null && binding.backstore == backstore) {
                return;
            }
            wasOffline = everAttached;
            oldCount = lastBlockCount;
            oldSize = lastBlockSize;
            if (binding != null) {
                binding.retire();
                lastDetached = binding;
            }
            binding = new Binding(backstore);
            current = binding;
            everAttached = true;
            lastBlockSize = backstore.blockSize();
            lastBlockCount = backstore.blockCount();
        }
        if (wasOffline) {
            // SBC-3 4.x: the medium went away and came back: NOT READY TO READY CHANGE (28/00).
            unitAttentions.raiseAll(SenseReason.MEDIUM_MAY_HAVE_CHANGED, null);
            if (oldCount != lastBlockCount || oldSize != lastBlockSize) {
                unitAttentions.raiseAll(SenseReason.CAPACITY_DATA_HAS_CHANGED, null);
            }
        }
    }

    @Override
    public Backstore detach() {
        synchronized (lock) {
            Binding b = binding;
            if (b == null) {
                return null;
            }
            binding = null;
            current = null;
            b.retire();
            lastDetached = b;
            return b.backstore;
        }
    }

    private Binding lastDetached; // guarded by lock

    @Override
    public CompletionStage<Void> drained() {
        synchronized (lock) {
            return lastDetached == null ? CompletableFuture.completedFuture(null) : lastDetached.drained;
        }
    }

    @Override
    public boolean online() {
        return current != null;
    }

    @Override
    public void attributes(LuAttributes next) {
        Objects.requireNonNull(next, "attributes");
        LuAttributes old;
        synchronized (lock) {
            old = attributes;
            attributes = next;
            if (!next.removable()) { // a fixed medium is present and cannot be prevented
                ejected = false;
                preventing.clear();
            }
        }
        if (old.readOnly() != next.readOnly()) { // WP in the mode parameter header (SBC-3 6.4.1)
            unitAttentions.raiseAll(SenseReason.MODE_PARAMETERS_CHANGED, null);
        }
        if (old.removable() != next.removable()) { // RMB in standard INQUIRY data (SPC-4 6.6.2)
            unitAttentions.raiseAll(SenseReason.INQUIRY_DATA_HAS_CHANGED, null);
        }
        if (old.physicalBlockSize() != next.physicalBlockSize()) { // READ CAPACITY(16) data (SBC-3 5.16.2)
            unitAttentions.raiseAll(SenseReason.CAPACITY_DATA_HAS_CHANGED, null);
        }
    }

    /**
     * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (SBC-3 5.16.2): log2(physical / logical block size) from
     * the physical_block_size attribute; 0 when unset or not larger than a logical block.
     */
    public int physicalBlockExponent() {
        int physical = attributes.physicalBlockSize();
        int logical = blockSize();
        if (physical <= logical || logical <= 0) {
            return 0;
        }
        return Math.min(15, Integer.numberOfTrailingZeros(physical / logical));
    }

    @Override
    public LuAttributes attributes() {
        return attributes;
    }

    @Override
    public String persistReservations(java.nio.file.Path file) {
        return persistentReservations.persistTo(new org.jtarget.core.internal.pr.PrStore(file));
    }

    @Override
    public org.jtarget.api.ReservationInfo reservations() {
        return org.jtarget.core.internal.pr.ReservationReport.of(name, persistentReservations.status());
    }

    @Override
    public void clearReservations() {
        org.jtarget.core.internal.pr.ReserveOut.deliver(this, null, persistentReservations.clearAll());
    }

    /** Writes end in DATA PROTECT: the read_only attribute or SWP in the control mode page. */
    public boolean writeProtected() {
        return attributes.readOnly() || modePages.softwareWriteProtect();
    }

    public boolean removable() {
        return attributes.removable();
    }

    /** Whether a removable medium was unloaded: medium access gets NOT READY, MEDIUM NOT PRESENT. */
    public boolean mediumAbsent() {
        return ejected;
    }

    /**
     * SBC-3 5.25 LOEJ: unloads ({@code load} false) or loads the medium, unless some I_T nexus prevents
     * removal. Loading raises NOT READY TO READY CHANGE for the other nexuses.
     *
     * @return false when removal is prevented (nothing changed)
     */
    public boolean loadOrEject(boolean load, ScsiNexus by) {
        synchronized (lock) {
            if (!preventing.isEmpty()) {
                return false;
            }
            boolean wasEjected = ejected;
            ejected = !load;
            if (load && wasEjected) {
                unitAttentions.raiseAll(SenseReason.MEDIUM_MAY_HAVE_CHANGED, by);
            }
            return true;
        }
    }

    /** SBC-3 5.13 PREVENT ALLOW MEDIUM REMOVAL: PREVENT 01b ({@code prevent}) or 00b for this nexus. */
    public void preventRemoval(ScsiNexus nexus, boolean prevent) {
        if (prevent) {
            preventing.add(nexus);
        } else {
            preventing.remove(nexus);
        }
    }

    public boolean removalPrevented() {
        return !preventing.isEmpty();
    }

    /** I_T nexus loss (session closed or I_T NEXUS RESET): its prevent state ends (SBC-3 5.13). */
    public void nexusLost(ScsiNexus nexus) {
        preventing.remove(nexus);
    }

    /**
     * Pins the current backstore for one command; null when offline. The caller ends the lease with
     * {@link Lease#release()} once the command no longer touches the backstore ({@link #drained()}).
     */
    public Lease acquire() {
        for (;;) {
            Binding b = current;
            if (b == null) {
                return null;
            }
            if (b.tryAcquire()) {
                return b;
            }
            if (b == current) {
                return null;
            }
        }
    }

    /** A command's hold on one backstore binding. */
    public interface Lease {
        Backstore backstore();

        /** Ends the hold; call exactly once. */
        void release();
    }

    /** The backstore now bound, or null (for capability checks; commands use {@link #acquire}). */
    public Backstore backstore() {
        Binding b = current;
        return b == null ? null : b.backstore;
    }

    public int blockSize() {
        Backstore b = backstore();
        return b == null ? lastBlockSize : b.blockSize();
    }

    /** Capacity in blocks; the last known value while offline. */
    public long blockCount() {
        Backstore b = backstore();
        if (b == null) {
            return lastBlockCount;
        }
        long n = b.blockCount();
        lastBlockCount = n;
        return n;
    }

    /** The bound backstore's limits (VPD B0h), or the defaults while offline. */
    public org.jtarget.spi.backstore.BackstoreLimits limits() {
        Backstore b = backstore();
        return b == null ? org.jtarget.spi.backstore.BackstoreLimits.DEFAULT : b.limits();
    }

    /** Whether the bound backstore deallocates blocks (UNMAP, WRITE SAME UNMAP, VPD B2h, LBPME). */
    public boolean thinProvisioned() {
        Backstore b = backstore();
        return b != null && b.thinProvisioning().isPresent();
    }

    /** Whether blocks the bound backstore deallocates read back as zeros (LBPRZ); false when it is not thin. */
    public boolean unmapReadsZeros() {
        ThinProvisioning t = thin();
        return t != null && t.readsZerosAfterUnmap();
    }

    /** Whether the bound backstore encrypts and can destroy its key (SANITIZE CRYPTOGRAPHIC ERASE, VPD B1h). */
    public boolean cryptographicErase() {
        Backstore b = backstore();
        return b != null && b.cryptographicErase().isPresent();
    }

    public ThinProvisioning thin() {
        Backstore b = backstore();
        return b == null ? null : b.thinProvisioning().orElse(null);
    }

    public TaskSet taskSet() {
        return taskSet;
    }

    public ModePages modePages() {
        return modePages;
    }

    public UnitAttentions<ScsiNexus> unitAttentions() {
        return unitAttentions;
    }

    /** Serialises COMPARE AND WRITE against other writes (SBC-3 5.2: atomic). */
    public WriteGate writeGate() {
        return writeGate;
    }

    /** SANITIZE in progress, progress and failure mode (SBC-3 4.11). */
    public SanitizeState sanitize() {
        return sanitize;
    }

    /** The ALUA target port groups (SPC-4 5.15). */
    @Override
    public org.jtarget.core.internal.alua.AluaGroups alua() {
        return alua;
    }

    public PersistentReservations persistentReservations() {
        return persistentReservations;
    }

    /** The nexus holding an SPC-2 reservation (RESERVE(6)/(10)), or null. */
    public ScsiNexus reservationHolder() {
        return reservationHolder;
    }

    public synchronized boolean reserve(ScsiNexus nexus) {
        if (reservationHolder != null && reservationHolder != nexus) {
            return false;
        }
        reservationHolder = nexus;
        return true;
    }

    /** Releases the reservation if {@code nexus} holds it (SPC-2 7.17: otherwise no effect). */
    public synchronized void release(ScsiNexus nexus) {
        if (reservationHolder == nexus) {
            reservationHolder = null;
        }
    }

    /** LOGICAL UNIT RESET side effects on state (SAM-5 7.7, SPC-2 5.5.1: reservations released). */
    public synchronized void clearReservation() {
        reservationHolder = null;
        preventing.clear(); // SBC-3 5.13: a logical unit reset clears every prevent state
    }

    @Override
    public String toString() {
        return "ScsiLogicalUnit(" + name + ", serial=" + serial + ", online=" + online() + ")";
    }

    /** One attached backstore and the commands that use it. */
    private static final class Binding implements Lease {
        final Backstore backstore;
        final AtomicInteger users = new AtomicInteger(1); // 1 = the binding itself until retired
        final CompletableFuture<Void> drained = new CompletableFuture<>();

        Binding(Backstore backstore) {
            this.backstore = backstore;
        }

        @Override
        public Backstore backstore() {
            return backstore;
        }

        boolean tryAcquire() {
            for (;;) {
                int n = users.get();
                if (n == 0) {
                    return false;
                }
                if (users.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        @Override
        public void release() {
            if (users.decrementAndGet() == 0) {
                drained.complete(null);
            }
        }

        void retire() {
            release();
        }
    }
}
