package org.jtarget.systests.fuzz;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Named counters of a fuzz run, safe for concurrent workers. A name is {@code "group: what"} (e.g.
 * {@code "sent: scsi-command"}, {@code "answer: reject 0x04"}); {@link #report} prints them grouped, in name order.
 */
public final class FuzzCounts {
    private final Map<String, LongAdder> counts = new ConcurrentSkipListMap<>();

    public void add(String name) {
        add(name, 1);
    }

    public void add(String name, long n) {
        counts.computeIfAbsent(name, k -> new LongAdder()).add(n);
    }

    public long get(String name) {
        LongAdder a = counts.get(name);
        return a == null ? 0 : a.sum();
    }

    /** The sum of every counter whose name starts with {@code prefix}. */
    public long sum(String prefix) {
        return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToLong(e -> e.getValue().sum()).sum();
    }

    /** One line per counter, {@code "  name ..... count"}, with a blank line between groups. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        String group = null;
        for (Map.Entry<String, LongAdder> e : counts.entrySet()) {
            String name = e.getKey();
            int colon = name.indexOf(':');
            String g = colon < 0 ? name : name.substring(0, colon);
            if (group != null && !group.equals(g)) {
                sb.append('\n');
            }
            group = g;
            sb.append(String.format("  %-52s %,12d%n", name, e.getValue().sum()));
        }
        return sb.toString();
    }
}
