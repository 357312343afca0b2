package org.jtarget.iscsi.internal.session;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The sessions of one fabric instance, shared by all event loops: TSIH allocation (RFC 7143 §11.12.5, non-zero
 * and unique per target) and lookup by session identity (initiator name, ISID, target, TPG) for session
 * reinstatement (§6.3.5). Thread-safe.
 */
public final class SessionRegistry {
    private final ConcurrentMap<Integer, IscsiConnection> byTsih = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, IscsiConnection> byIdentity = new ConcurrentHashMap<>();
    private int nextTsih = 1;

    /** Assigns a free TSIH in 1..65535 to {@code connection}. */
    int allocateTsih(IscsiConnection connection) {
        synchronized (this) {
            for (int tries = 0; tries < 65535; tries++) {
                int tsih = nextTsih;
                nextTsih = nextTsih == 0xffff ? 1 : nextTsih + 1;
                if (byTsih.putIfAbsent(tsih, connection) == null) {
                    return tsih;
                }
            }
        }
        throw new IllegalStateException("all 65535 TSIHs are in use");
    }

    /** Registers a session under its identity; returns the session it replaces (to be closed), or null. */
    IscsiConnection register(String identity, IscsiConnection connection) {
        return byIdentity.put(identity, connection);
    }

    void remove(String identity, int tsih, IscsiConnection connection) {
        if (identity != null) {
            byIdentity.remove(identity, connection);
        }
        if (tsih != 0) {
            byTsih.remove(tsih, connection);
        }
    }

    /** Number of sessions in full feature phase (discovery sessions included). */
    public int size() {
        return byTsih.size();
    }

    /** Closes every session (fabric shutdown). */
    public void closeAll() {
        byTsih.values().forEach(IscsiConnection::terminate);
    }
}
