package org.jtarget.iscsi.internal.session;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.TpgLimit;

/**
 * The sessions of one fabric instance, shared by all event loops: TSIH allocation (RFC 7143 §11.12.5, non-zero
 * and unique per target), lookup by session identity (initiator name, ISID, target, TPG) for session
 * reinstatement (§6.3.5), the session limits ({@link TpgLimit#MAX_SESSIONS},
 * {@link TpgLimit#MAX_SESSIONS_PER_INITIATOR}) and the count of connections still in login per source address
 * ({@link TpgLimit#MAX_LOGINS_PER_ADDRESS}). Thread-safe.
 */
public final class SessionRegistry {
    private final ConcurrentMap<Integer, IscsiConnection> byTsih = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, IscsiConnection> byIdentity = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Integer> inLogin = new ConcurrentHashMap<>();
    private final ConcurrentMap<InetSocketAddress, Cached> portalLimits = new ConcurrentHashMap<>();
    private int nextTsih = 1;
    /** How long the login limits of a portal are reused: a TPG attribute change reaches new connections then. */
    static final long PORTAL_LIMITS_TTL = TimeUnit.SECONDS.toNanos(1);

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

    /**
     * Registers a normal session unless that would exceed {@code maxSessions} sessions of its target or
     * {@code maxPerInitiator} of its initiator on that target. A session that replaces one of the same identity
     * (§6.3.5 reinstatement) takes its place and is not counted twice.
     *
     * @return why it was refused ("field: value (expected: ...)"), or null when registered; the session it
     *         replaces is then in {@code replaced[0]}
     */
    synchronized String register(String identity, String target, String initiator, IscsiConnection connection,
                                 int maxSessions, int maxPerInitiator, IscsiConnection[] replaced) {
        IscsiConnection old = byIdentity.get(identity);
        if (old == null) {
            int sessions = 0;
            int mine = 0;
            for (IscsiConnection c : byIdentity.values()) {
                if (target.equals(c.targetName())) {
                    sessions++;
                    mine += initiator.equals(c.initiatorName()) ? 1 : 0;
                }
            }
            if (sessions >= maxSessions) {
                return "sessions of " + target + ": " + (sessions + 1) + " (expected: at most "
                        + TpgLimit.MAX_SESSIONS.key() + " " + maxSessions + ")";
            }
            if (mine >= maxPerInitiator) {
                return "sessions of " + NetworkText.quote(initiator) + " on " + target + ": " + (mine + 1)
                        + " (expected: at most " + TpgLimit.MAX_SESSIONS_PER_INITIATOR.key() + " " + maxPerInitiator
                        + ")";
            }
        }
        byIdentity.put(identity, connection);
        replaced[0] = old;
        return null;
    }

    /**
     * Counts a new connection from {@code address} that has not logged in yet, unless {@code limit} of them are
     * in login already.
     *
     * @return whether it was counted (then {@link #loginEnded} must follow)
     */
    boolean loginStarted(String address, int limit) {
        boolean[] counted = {false};
        inLogin.compute(address, (a, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limit) {
                return n;
            }
            counted[0] = true;
            return now + 1;
        });
        return counted[0];
    }

    void loginEnded(String address) {
        inLogin.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }

    private record Cached(int[] values, long at) {
    }

    /** {@code compute}d values for a portal, reused for {@link #PORTAL_LIMITS_TTL} nanoseconds. */
    int[] portalLimits(InetSocketAddress portal, Supplier<int[]> compute) {
        long now = System.nanoTime();
        Cached c = portalLimits.get(portal);
        if (c == null || now - c.at > PORTAL_LIMITS_TTL) {
            c = new Cached(compute.get(), now);
            portalLimits.put(portal, c);
        }
        return c.values;
    }

    /** Connections from {@code address} in login now. */
    public int inLogin(String address) {
        return inLogin.getOrDefault(address, 0);
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
