package org.jtarget.systests.fuzz;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.systests.wire.IscsiClient;

/**
 * Network fuzzer for an iSCSI target (RFC 7143): {@code workers} threads open connections one after another
 * until {@code duration} has passed or {@code maxConnections} were opened. Connection number {@code k} draws
 * everything from {@code new SplittableRandom(seed).split()} taken {@code k} times in order, so its bytes depend
 * on the seed and its number only (and on what the target answers). A connection is one of:
 * <ul>
 *   <li>a login sequence with AuthMethod None on the fuzzed target ({@link LoginFuzz}), 25%;</li>
 *   <li>a CHAP login sequence on the CHAP target ({@link LoginFuzz}), 15%;</li>
 *   <li>a valid login, then mutated full feature phase PDUs ({@link FullFeatureFuzz}), 52%;</li>
 *   <li>random bytes from the first byte on, 8%.</li>
 * </ul>
 * How each connection ended is counted under {@code "end: "}; {@code "end: connect failed"} and
 * {@code "end: stalled"} (a PDU began but did not complete within the client timeout) mean the target
 * misbehaved.
 */
public final class NetworkFuzzer {
    /** Read timeout of fuzz connections: a target that stops answering in mid-PDU for this long stalled. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);
    private static final String[] NAMES = {"iqn.2026-12.org.example:fuzz-a", "iqn.2026-12.org.example:fuzz-b",
            "iqn.2026-12.org.example:fuzz-c", "iqn.1994-05.com.redhat:fuzz", "eui.0123456789ABCDEF",
            "naa.52004567BA64678D"};

    /**
     * What to fuzz and for how long.
     *
     * @param port           portal port (127.0.0.1) of {@code target}, AuthMethod None
     * @param chapPort       portal port of {@code chapTarget}, CHAP required for {@code chapInitiator}
     * @param seed           the run's seed
     * @param workers        concurrent connections
     * @param duration       no connection starts after this
     * @param maxConnections no more connections than this
     */
    public record Config(int port, String target, int chapPort, String chapTarget, String chapInitiator,
                         String chapUser, String chapSecret, long seed, int workers, Duration duration,
                         int maxConnections) {
    }

    private final Config config;
    private final FuzzCounts counts = new FuzzCounts();
    private final List<Throwable> toolFailures = new ArrayList<>();

    public NetworkFuzzer(Config config) {
        this.config = config;
    }

    public FuzzCounts counts() {
        return counts;
    }

    /**
     * Fuzzes until the duration or the connection count is reached; returns the number of connections. Throws
     * when the fuzzer itself failed (a bug of this tool, not of the target).
     */
    public int run() throws InterruptedException {
        SplittableRandom root = new SplittableRandom(config.seed());
        AtomicInteger next = new AtomicInteger();
        long deadline = System.nanoTime() + config.duration().toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(config.workers(), r -> {
            Thread t = new Thread(r, "netfuzz-worker");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < config.workers(); w++) {
            futures.add(pool.submit(() -> {
                while (System.nanoTime() < deadline) {
                    SplittableRandom random;
                    int number;
                    synchronized (root) { // connection k gets the k-th split, whichever worker runs it
                        if (next.get() >= config.maxConnections()) {
                            return null;
                        }
                        number = next.getAndIncrement();
                        random = root.split();
                    }
                    connection(number, random);
                }
                return null;
            }));
        }
        pool.shutdown();
        long grace = config.duration().toMillis() + 4 * CLIENT_TIMEOUT.toMillis() + 60_000;
        if (!pool.awaitTermination(grace, TimeUnit.MILLISECONDS)) {
            pool.shutdownNow();
            throw new IllegalStateException("fuzz workers still running " + grace + " ms after the start");
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                toolFailures.add(e.getCause());
            }
        }
        if (!toolFailures.isEmpty()) {
            IllegalStateException failure = new IllegalStateException("the fuzzer itself failed");
            toolFailures.forEach(failure::addSuppressed);
            throw failure;
        }
        return next.get();
    }

    /**
     * The loopback address connection {@code number} comes from: 127.1.x.y, a different one for each of 62,500
     * connections in a row. The target throttles failed logins and counts logins in progress per source
     * address (both per peer, as they must be); the fuzzers fail logins all the time, and from one address they
     * would soon be refused before reaching the states worth fuzzing. The victim and the final checks use
     * 127.0.0.1, which no fuzzer uses: that a hostile address leaves them alone is part of what is tested.
     */
    static String sourceAddress(int number) {
        return "127.1." + (number / 250 % 250 + 1) + "." + (number % 250 + 1);
    }

    private void connection(int number, SplittableRandom random) {
        int roll = random.nextInt(100);
        boolean chap = roll >= 25 && roll < 40;
        String kind = roll < 25 ? "login" : chap ? "login chap" : roll < 92 ? "full feature" : "garbage";
        counts.add("connection: " + kind);
        IscsiClient client;
        try {
            client = IscsiClient.connect(sourceAddress(number), "127.0.0.1", chap ? config.chapPort() : config.port(),
                    CLIENT_TIMEOUT);
        } catch (IOException e) {
            counts.add("end: connect failed (" + e + ")");
            return;
        }
        try {
            FuzzConnection scenario = switch (kind) {
                case "login", "login chap" -> new LoginFuzz(client, random, counts, config, chap);
                case "full feature" -> new FullFeatureFuzz(client, random, counts, config);
                default -> new FuzzConnection(client, random, counts) {
                    @Override
                    void run() throws IOException {
                        send("garbage bytes", mutator.bytes(random.nextInt(1, 5000)));
                        drainEnd();
                    }
                };
            };
            scenario.run();
            if (random.nextInt(4) == 0) {
                counts.add("end: reset by fuzzer");
                client.reset();
            } else {
                counts.add("end: closed by fuzzer");
                client.close();
            }
        } catch (EOFException e) {
            counts.add("end: closed by target");
        } catch (SocketTimeoutException e) {
            counts.add("end: stalled (a PDU incomplete for " + CLIENT_TIMEOUT.toSeconds() + " s)");
        } catch (SocketException e) { // reset, broken pipe: the target closed while we were sending
            counts.add("end: closed by target");
        } catch (IOException e) { // an unexpected answer where IscsiClient wanted a login response
            counts.add("end: " + e.getClass().getSimpleName() + " " + firstWords(e.getMessage()));
        } finally {
            try {
                client.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private static String firstWords(String message) {
        if (message == null) {
            return "";
        }
        return message.length() > 60 ? message.substring(0, 60) + "..." : message;
    }

    static String initiatorName(SplittableRandom random) {
        return NAMES[random.nextInt(NAMES.length)];
    }

    /**
     * An ISID (§11.12.5): random, or one time in four one of four fixed values, so that fuzz sessions with the
     * same InitiatorName reinstate each other (§6.3.5) while others use them.
     */
    static long isid(SplittableRandom random) {
        return random.nextInt(4) == 0 ? 0x400000000001L + random.nextInt(4) : random.nextLong() & 0xffffffffffffL;
    }

    /** A seed from the clock, for runs without a given seed. */
    public static long newSeed() {
        return new SplittableRandom().nextLong();
    }
}
