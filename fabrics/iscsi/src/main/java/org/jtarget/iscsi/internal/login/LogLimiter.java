package org.jtarget.iscsi.internal.login;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps a flood of similar log lines (bad logins) from filling the disk: per category a token bucket of
 * {@code perMinute} lines that refills evenly over a minute. A line without a token is counted, not
 * written; the next line written in that category is preceded by "N similar messages suppressed".
 * Categories are a small fixed set (login status names), so the table stays small. Thread-safe.
 */
public final class LogLimiter {
    private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    private static final class Bucket {
        double tokens;
        long refilled;
        long suppressed;
    }

    private final LongSupplier clock;
    private final int perMinute;
    private final Consumer<String> sink;
    private final Map<String, Bucket> buckets = new HashMap<>();

    /**
     * @param clock     nanoseconds, as {@link System#nanoTime}
     * @param perMinute lines written per category and minute at most (after a burst of as many)
     * @param sink      where written lines go (a logger)
     */
    public LogLimiter(LongSupplier clock, int perMinute, Consumer<String> sink) {
        this.clock = clock;
        this.perMinute = perMinute;
        this.sink = sink;
    }

    /** Writes {@code line} unless its category used up its lines; escape network values before. */
    public void log(String category, String line) {
        long suppressed;
        synchronized (this) {
            long now = clock.getAsLong();
            Bucket b = buckets.get(category);
            if (b == null) {
                b = new Bucket();
                b.tokens = perMinute;
                b.refilled = now;
                buckets.put(category, b);
            }
            b.tokens = Math.min(perMinute, b.tokens + (double) (now - b.refilled) * perMinute / MINUTE);
            b.refilled = now;
            if (b.tokens < 1) {
                b.suppressed++;
                return;
            }
            b.tokens -= 1;
            suppressed = b.suppressed;
            b.suppressed = 0;
        }
        if (suppressed > 0) {
            sink.accept(suppressed + " similar messages suppressed (" + category + ")");
        }
        sink.accept(line);
    }
}
