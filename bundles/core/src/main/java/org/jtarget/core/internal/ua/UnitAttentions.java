package org.jtarget.core.internal.ua;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jtarget.scsi.SenseReason;

/**
 * The unit attention conditions of one logical unit, one queue per I_T nexus (SAM-5 5.14, SPC-4 7.5.3
 * with UA_INTLCK_CTRL 00b: reporting a UA clears it). A nexus's queue starts with POWER ON, RESET, OR
 * BUS DEVICE RESET OCCURRED (29h/00h, the generic form of POWER ON OCCURRED, SAM-5 6.3.1) the first
 * time the nexus addresses the LU. 29h/00h rather than 29h/01h because initiator tools (libiscsi's
 * iscsi-ls, iscsi-inq; tgt sends the same) retry TEST UNIT READY only for that code.
 *
 * @param <N> the nexus type (identity-compared key)
 */
public final class UnitAttentions<N> {
    /** Bound on queued conditions per nexus; beyond it the oldest non-reset condition is dropped. */
    static final int MAX_QUEUED = 16;

    private final Map<N, Deque<SenseReason>> queues = new ConcurrentHashMap<>();

    /** Registers {@code nexus} (first use), queueing the power-on condition; no-op when already registered. */
    public void register(N nexus) {
        queues.computeIfAbsent(nexus, n -> {
            Deque<SenseReason> q = new ArrayDeque<>(4);
            q.add(SenseReason.POWER_ON_RESET_OR_BUS_DEVICE_RESET);
            return q;
        });
    }

    public boolean registered(N nexus) {
        return queues.containsKey(nexus);
    }

    /** The registered nexuses. */
    public java.util.Set<N> nexuses() {
        return queues.keySet();
    }

    /** Forgets a nexus that ended. */
    public void unregister(N nexus) {
        queues.remove(nexus);
    }

    /** Queues {@code reason} for one nexus, if it is registered (a new one gets POWER ON anyway). */
    public void raise(N nexus, SenseReason reason) {
        Deque<SenseReason> q = queues.get(nexus);
        if (q != null) {
            add(q, reason);
        }
    }

    /** Queues {@code reason} for every registered nexus except {@code except} (may be null). */
    public void raiseAll(SenseReason reason, N except) {
        for (Map.Entry<N, Deque<SenseReason>> e : queues.entrySet()) {
            if (e.getKey() != except) {
                add(e.getValue(), reason);
            }
        }
    }

    private static void add(Deque<SenseReason> q, SenseReason reason) {
        synchronized (q) {
            if (q.contains(reason)) {
                return;
            }
            if (isReset(reason)) {
                // SAM-5 6.4: power on and reset conditions take precedence over the others.
                q.addFirst(reason);
                return;
            }
            if (q.size() >= MAX_QUEUED) {
                q.removeLast();
            }
            q.addLast(reason);
        }
    }

    private static boolean isReset(SenseReason r) {
        return r.asc() == 0x29;
    }

    /** Takes the oldest pending condition for {@code nexus} (reporting clears it), or null. */
    public SenseReason poll(N nexus) {
        Deque<SenseReason> q = queues.get(nexus);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            return q.pollFirst();
        }
    }

    /** The oldest pending condition without clearing it, or null. */
    public SenseReason peek(N nexus) {
        Deque<SenseReason> q = queues.get(nexus);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            return q.peekFirst();
        }
    }

    /** Clears one condition (REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED, SPC-4 6.33). */
    public void clear(N nexus, SenseReason reason) {
        Deque<SenseReason> q = queues.get(nexus);
        if (q != null) {
            synchronized (q) {
                q.remove(reason);
            }
        }
    }
}
