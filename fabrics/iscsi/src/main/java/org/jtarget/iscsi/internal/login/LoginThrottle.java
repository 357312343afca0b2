package org.jtarget.iscsi.internal.login;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Slows down guessing of CHAP secrets and initiator names (RFC 7143 §9.2.1: CHAP over an unencrypted
 * channel is open to dictionary attacks). Failed authentications are counted per source address (per /64 for
 * IPv6, which a single host usually owns whole), per initiator name at that address, and per initiator name
 * from anywhere. After {@value #FREE_FAILURES} failures a key is blocked for 1 s, doubling with each further
 * failure up to {@link #MAX_BLOCK_NANOS}. While the address, or the name at that address, is blocked, an
 * attempt from there fails whatever it proves, so a guess made then tests nothing. The name alone never
 * blocks: otherwise any peer could lock a legitimate initiator out by failing logins in its name from
 * elsewhere (nothing about one initiator may change because of another peer's unauthenticated input); a
 * name guessed from many addresses gets its failures answered late instead ({@link #responseDelayNanos}).
 * A failure made while blocked does not lengthen the block. A key is forgotten
 * {@link #FORGET_NANOS} after its last failure, or when it proves a CHAP secret; at most
 * {@value #MAX_ENTRIES} keys are kept (the least recently used go first). Thread-safe: one instance
 * serves every event loop of a fabric; nothing here blocks.
 */
public final class LoginThrottle {
    /** Failures allowed before the first block (a mistyped secret, then a corrected one). */
    public static final int FREE_FAILURES = 5;
    public static final long FIRST_BLOCK_NANOS = TimeUnit.SECONDS.toNanos(1);
    public static final long MAX_BLOCK_NANOS = TimeUnit.SECONDS.toNanos(60);
    public static final long FORGET_NANOS = TimeUnit.MINUTES.toNanos(15);
    /** Longest a failed login's response is held back (the connection waits on no thread meanwhile). */
    public static final long MAX_RESPONSE_DELAY_NANOS = TimeUnit.SECONDS.toNanos(2);
    public static final int MAX_ENTRIES = 4096;

    private static final class Entry {
        int failures;
        long lastFailure;
        long block;
        long blockedUntil;

        boolean blockedAt(long now) {
            return block > 0 && now - blockedUntil < 0;
        }
    }

    private final LongSupplier clock;
    private final Map<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /** @param clock nanoseconds, as {@link System#nanoTime} */
    public LoginThrottle(LongSupplier clock) {
        this.clock = clock;
    }

    /** Whether an attempt of {@code initiator} from {@code address} (either may be null) must fail now. */
    public synchronized boolean blocked(String initiator, InetAddress address) {
        long now = clock.getAsLong();
        for (String key : keys(initiator, address)) {
            Entry e = live(key, now);
            if (e != null && e.blockedAt(now) && !key.startsWith(NAME)) {
                return true;
            }
        }
        return false;
    }

    /** Counts a failed authentication (not one refused because it was {@link #blocked}). */
    public synchronized void failed(String initiator, InetAddress address) {
        long now = clock.getAsLong();
        for (String key : keys(initiator, address)) {
            Entry e = live(key, now);
            if (e == null) {
                e = new Entry();
                entries.put(key, e);
            } else if (e.blockedAt(now)) {
                continue; // blocked: this attempt tested nothing
            }
            e.failures++;
            e.lastFailure = now;
            if (e.failures > FREE_FAILURES) {
                int doublings = Math.min(e.failures - FREE_FAILURES - 1, 30);
                e.block = Math.min(MAX_BLOCK_NANOS, FIRST_BLOCK_NANOS << doublings);
                e.blockedUntil = now + e.block;
            }
        }
    }

    /** The initiator proved its CHAP secret: its name and address start afresh. */
    public synchronized void succeeded(String initiator, InetAddress address) {
        for (String key : keys(initiator, address)) {
            entries.remove(key);
        }
    }

    /**
     * How long to hold back the response of a failed attempt: the current block length of its keys, at
     * most {@link #MAX_RESPONSE_DELAY_NANOS}; 0 before the first block. Blocked or not, the same delay, so
     * the timing does not tell a peer that it is throttled.
     */
    public synchronized long responseDelayNanos(String initiator, InetAddress address) {
        long now = clock.getAsLong();
        long delay = 0;
        for (String key : keys(initiator, address)) {
            Entry e = live(key, now);
            if (e != null) {
                delay = Math.max(delay, e.block);
            }
        }
        return Math.min(delay, MAX_RESPONSE_DELAY_NANOS);
    }

    /** Keys tracked now (for tests of the memory bound). */
    synchronized int size() {
        return entries.size();
    }

    private Entry live(String key, long now) {
        Entry e = entries.get(key);
        if (e != null && now - e.lastFailure > FORGET_NANOS && !e.blockedAt(now)) {
            entries.remove(key);
            return null;
        }
        return e;
    }

    /** Key prefix of the name-only key: it delays answers but never blocks. */
    private static final String NAME = "initiator ";

    private static String[] keys(String initiator, InetAddress address) {
        String a = address == null ? null : "address " + prefix(address);
        String i = initiator == null ? null : NAME + initiator;
        String pair = a == null || i == null ? null : "at " + a + " " + i;
        return Arrays.stream(new String[] {i, a, pair}).filter(k -> k != null).toArray(String[]::new);
    }

    /** IPv4: the address; IPv6: its /64 (the rest is the host's own choice, RFC 4291 §2.5.1). */
    private static String prefix(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address) {
            Arrays.fill(bytes, 8, 16, (byte) 0);
            return "v6 " + HexFormat.of().formatHex(bytes, 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }
}
