package org.jtarget.iscsi.internal.fuzz;

import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A small seeded fuzz harness on plain JUnit 5: {@link #check} runs a property for a number of tries, each on
 * an input generated from its own {@link Gen}, whose seed derives from the run seed, the property's name and
 * the try number. A failure names all of them, so a try can be replayed alone.
 *
 * <p>System properties (pass them to {@code mvn}; surefire hands them to the test JVM):
 * {@code jtarget.fuzz.tries} (default 500 per property), {@code jtarget.fuzz.seed} (default {@link #DEFAULT_SEED};
 * {@code random} for a random one, printed), {@code jtarget.fuzz.try} (run only that try, to reproduce a failure) and
 * {@code jtarget.fuzz.seconds} (time budget per property, default 300).
 */
final class Fuzz {
    static final int TRIES = Integer.getInteger("jtarget.fuzz.tries", 500);
    /**
     * The build's run seed when none is given: the build fuzzes the same inputs every time, so a red build means
     * a change broke something, not that this run drew an unlucky input. {@code -Djtarget.fuzz.seed=random}
     * explores new inputs (the seed is printed).
     */
    static final long DEFAULT_SEED = 20261207L;
    static final long SEED = seed(System.getProperty("jtarget.fuzz.seed"));
    private static final Integer ONLY_TRY = Integer.getInteger("jtarget.fuzz.try");
    private static final long BUDGET_NANOS = Long.getLong("jtarget.fuzz.seconds", 300) * 1_000_000_000L;
    private static final int MAX_DESCRIPTION = 4000;
    private static final ThreadLocal<Map<String, Integer>> STATISTICS = new ThreadLocal<>();

    private Fuzz() {
    }

    private static long seed(String property) {
        if (property == null || property.isBlank()) {
            return DEFAULT_SEED;
        }
        return property.equals("random") ? ThreadLocalRandom.current().nextLong() : Long.parseLong(property.trim());
    }

    /**
     * Runs a property over generated inputs; the property fails by throwing. Prints one line: the property,
     * tries, seed, time and the statistics the tries {@linkplain #collect collected}.
     */
    static <T> void check(Function<Gen, T> generator, Consumer<T> property) {
        // the property's name: the test method calling, maybe through a lambda or JUnit's assertThrows
        String name = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(frames -> frames.filter(f -> f.getDeclaringClass() != Fuzz.class
                        && f.getDeclaringClass().getPackage() == Fuzz.class.getPackage()
                        && !f.getMethodName().startsWith("lambda$")).findFirst())
                .map(f -> f.getDeclaringClass().getSimpleName() + "." + f.getMethodName()).orElse("?");
        Map<String, Integer> statistics = new LinkedHashMap<>();
        STATISTICS.set(statistics);
        SplittableRandom seeds = new SplittableRandom(SEED ^ name.hashCode() * 0x9E3779B97F4A7C15L);
        long start = System.nanoTime();
        int tries = 0;
        boolean outOfTime = false;
        try {
            for (int t = 1; t <= TRIES; t++) {
                long trySeed = seeds.nextLong(); // drawn for every try, so that try t is the same when run alone
                if (ONLY_TRY != null && ONLY_TRY != t) {
                    continue;
                }
                if (System.nanoTime() - start > BUDGET_NANOS) {
                    outOfTime = true;
                    break;
                }
                tries++;
                runTry(name, t, trySeed, generator, property);
            }
        } finally {
            STATISTICS.remove();
            System.out.printf("[fuzz] %s: %d tries%s, seed %d, %.1f s%s%n", name, tries,
                    outOfTime ? " (stopped: time budget of jtarget.fuzz.seconds)" : "", SEED,
                    (System.nanoTime() - start) / 1e9, format(statistics, tries));
        }
    }

    private static <T> void runTry(String name, int t, long trySeed, Function<Gen, T> generator,
                                   Consumer<T> property) {
        T input = null;
        try {
            input = generator.apply(new Gen(trySeed));
            property.accept(input);
        } catch (Throwable e) {
            String description = describe(input);
            if (description.length() > MAX_DESCRIPTION) {
                description = description.substring(0, MAX_DESCRIPTION) + "...";
            }
            throw new AssertionError(name + " failed at try " + t + " of " + TRIES + " with run seed " + SEED
                    + " (reproduce: -Djtarget.fuzz.seed=" + SEED + " -Djtarget.fuzz.try=" + t + "): " + e
                    + "\ninput: " + description, e);
        }
    }

    /** Counts one try under the given values (e.g. how far a login got); printed as shares of all tries. */
    static void collect(Object... values) {
        Map<String, Integer> statistics = STATISTICS.get();
        if (statistics == null) {
            throw new IllegalStateException("Fuzz.collect outside Fuzz.check");
        }
        StringJoiner key = new StringJoiner(" / ");
        for (Object v : values) {
            key.add(String.valueOf(v));
        }
        statistics.merge(key.toString(), 1, Integer::sum);
    }

    private static String format(Map<String, Integer> statistics, int tries) {
        if (statistics.isEmpty()) {
            return "";
        }
        StringJoiner sj = new StringJoiner(", ", "; statistics: ", "");
        statistics.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> sj.add(e.getKey() + " " + Math.round(100.0 * e.getValue() / Math.max(1, tries)) + "%"));
        return sj.toString();
    }

    /** A short description of a generated input: records by component, long arrays and strings by length. */
    static String describe(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof byte[] b) {
            return b.length <= 16 ? "0x" + io.netty.buffer.ByteBufUtil.hexDump(b) : b.length + " bytes";
        }
        if (o instanceof String s) {
            return s.length() <= 80 ? '"' + s.replace("\0", "\\0") + '"'
                    : '"' + s.substring(0, 40).replace("\0", "\\0") + "...\" (" + s.length() + " chars)";
        }
        if (o.getClass().isArray()) {
            StringJoiner sj = new StringJoiner(", ", "[", "]");
            for (int i = 0; i < Array.getLength(o); i++) {
                sj.add(describe(Array.get(o, i)));
            }
            return sj.toString();
        }
        if (o instanceof Collection<?> c) {
            StringJoiner sj = new StringJoiner(", ", "[", "]");
            c.forEach(e -> sj.add(describe(e)));
            return sj.toString();
        }
        if (o instanceof Map<?, ?> m) {
            StringJoiner sj = new StringJoiner(", ", "{", "}");
            m.forEach((k, v) -> sj.add(describe(k) + "=" + describe(v)));
            return sj.toString();
        }
        if (o.getClass().isRecord()) {
            StringJoiner sj = new StringJoiner(", ", o.getClass().getSimpleName() + "[", "]");
            for (RecordComponent rc : o.getClass().getRecordComponents()) {
                try {
                    rc.getAccessor().setAccessible(true);
                    sj.add(rc.getName() + "=" + describe(rc.getAccessor().invoke(o)));
                } catch (ReflectiveOperationException e) {
                    sj.add(rc.getName() + "=?");
                }
            }
            return sj.toString();
        }
        return String.valueOf(o);
    }
}
