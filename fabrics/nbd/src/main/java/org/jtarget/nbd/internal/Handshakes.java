package org.jtarget.nbd.internal;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections per client address that have not chosen an export yet, shared by a fabric's portals: a client
 * may hold at most the TPG limit {@code max_logins_per_address} (16) of them; more are closed as they arrive.
 */
final class Handshakes {
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    /** Counts one more handshake from {@code address}, or returns false when {@code max} are already open. */
    boolean enter(InetAddress address, int max) {
        boolean[] entered = {false};
        open.compute(address, (a, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) {
                return n;
            }
            entered[0] = true;
            return now + 1;
        });
        return entered[0];
    }

    void leave(InetAddress address) {
        open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }
}
