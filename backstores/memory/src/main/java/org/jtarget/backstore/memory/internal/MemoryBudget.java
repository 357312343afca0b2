package org.jtarget.backstore.memory.internal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of chunk memory all backstores of one provider may hold together. Memory backstores are
 * thin: their sizes may add up to far more than this; what is bounded is what has been written.
 * A chunk is charged before it is allocated and credited when its memory is freed.
 */
final class MemoryBudget {
    private final long max;
    private final AtomicLong used = new AtomicLong();
    /** Set when a charge was refused, cleared by the next credit: one log line per exhaustion. */
    private final AtomicBoolean exhausted = new AtomicBoolean();

    MemoryBudget(long max) {
        if (max < 0) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
        }
        this.max = max;
    }

    /** Charges {@code bytes} if they fit; false (and nothing charged) if not. */
    boolean tryCharge(long bytes) {
        long now;
        do {
            now = used.get();
            if (bytes > max - now) {
                return false;
            }
        } while (!used.compareAndSet(now, now + bytes));
        return true;
    }

    void credit(long bytes) {
        used.addAndGet(-bytes);
        exhausted.set(false);
    }

    /** True only for the first refusal since memory was last returned: the caller logs it. */
    boolean firstRefusal() {
        return exhausted.compareAndSet(false, true);
    }

    long max() {
        return max;
    }

    long used() {
        return used.get();
    }

    long free() {
        return Math.max(0, max - used.get());
    }

    /** "512 MiB", "1.5 GiB", "4096 bytes": for log lines. */
    static String format(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v))
                + " " + units[u];
    }
}
