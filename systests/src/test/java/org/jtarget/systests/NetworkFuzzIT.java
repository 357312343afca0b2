package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jtarget.systests.fuzz.FuzzCounts;
import org.jtarget.systests.fuzz.NetworkFuzzer;
import org.jtarget.systests.fuzz.Victim;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Network fuzzing of the started distribution (issue 6: hostile input must harm neither other sessions nor the
 * JVM). {@link NetworkFuzzer} sends mutated login sequences (AuthMethod None on the default target, CHAP on a
 * CHAP target) and mutated full feature phase PDUs on the default target's LUN 0 (the 1 GiB file, which fuzzers
 * may write anywhere) from many concurrent connections. Meanwhile a {@link Victim} session writes and verifies
 * random data on its own LU: a 16 MiB memory backstore mapped only in the target {@value #VICTIM_IQN}, on its own
 * portal, with an ACL for the victim's initiator name alone (the fuzzers use other names and never connect to
 * that portal), so every byte it reads back is its own. It must see no error at all.
 *
 * <p>Afterwards: the target process is alive, fresh logins work on all three targets, the victim's LU holds
 * exactly what it wrote, and neither {@code logs/jtarget.log} nor {@code console.log} shows an uncaught
 * exception, an OutOfMemoryError, a Netty leak report (the target runs with
 * {@code -Dio.netty.leakDetection.level=paranoid}; a forced GC makes leaked buffers reportable) or an ERROR.
 *
 * <p>System properties (defaults for the build): {@code jtarget.fuzz.seconds} (40), {@code jtarget.fuzz.connections}
 * (100000), {@code jtarget.fuzz.workers} (12), {@code jtarget.fuzz.seed} (random; printed, set it to reproduce a
 * run's PDUs).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworkFuzzIT {
    static final String VICTIM_IQN = "iqn.2026-12.org.jtarget:fuzz-victim";
    private static final String VICTIM_INITIATOR = "iqn.2026-12.org.example:victim";
    private static final long VICTIM_BLOCKS = (16 << 20) / Victim.BLOCK;
    private static final String CHAP_IQN = "iqn.2026-12.org.jtarget:fuzz-chap";
    private static final String CHAP_INITIATOR = "iqn.2026-12.org.example:fuzz-chap";
    private static final String CHAP_USER = "fuzzuser";
    private static final String CHAP_SECRET = "fuzzSecret-0123";
    /** Generous: the victim shares two cores with the target, the fuzzers and paranoid leak tracking. */
    private static final Duration VICTIM_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Log lines that mean the JVM or the pipeline failed: slf4j-simple ERROR, JUL SEVERE, Netty's LEAK, a WARN
     * naming an exception class, and the head of a logged stack trace (an exception thrown inside the target's
     * handling of a PDU, e.g. "core failed to accept ..." followed by "java.lang.NullPointerException: ...").
     */
    private static final Pattern BAD_LOG_LINE = Pattern.compile("Exception in thread|OutOfMemoryError|LEAK:"
            + "|\\bERROR\\b|\\bSEVERE\\b|A fatal error has been detected"
            + "|\\bWARN\\b.*\\b[a-z]+\\.[\\w.$]*(Exception|Error)\\b"
            + "|^[a-z][\\w$]*(\\.[\\w$]+)+(Exception|Error)(:|$)");

    private static final Pattern CONNECTION_FAILED = Pattern.compile("^(\\S+) .*connection from (\\S+) failed: ");

    private JtargetInstance jtarget;
    private int chapPort;
    private int victimPort;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("netfuzz")
                .environment("JTARGET_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid");
        jtarget.start();
        chapPort = JtargetInstance.freePort();
        jtarget.createChapTarget(CHAP_IQN, "fuzzchap", CHAP_INITIATOR, CHAP_USER, CHAP_SECRET, "127.0.0.1:" + chapPort);
        // mutual CHAP too, so that the fuzzers' CHAP_I/CHAP_C reach the code that answers them (§12.1.3)
        jtarget.execOk("acl:chap " + CHAP_IQN + " 1 " + CHAP_INITIATOR + " " + CHAP_USER + " " + CHAP_SECRET
                + " fuzztarget targetSecret-0123");
        victimPort = JtargetInstance.freePort();
        jtarget.execOk("backstore:create fuzzvictim memory size=16M");
        jtarget.execOk("target:create " + VICTIM_IQN);
        jtarget.execOk("tpg:create " + VICTIM_IQN + " 1");
        jtarget.execOk("lun:add " + VICTIM_IQN + " 1 0 fuzzvictim");
        jtarget.execOk("tpg:set " + VICTIM_IQN + " 1 generate_node_acls false");
        jtarget.execOk("acl:add " + VICTIM_IQN + " 1 " + VICTIM_INITIATOR);
        jtarget.execOk("portal:add " + VICTIM_IQN + " 1 127.0.0.1:" + victimPort);
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @Test
    void fuzzedConnectionsHarmNeitherTheVictimSessionNorTheTarget() throws Exception {
        long seed = Long.getLong("jtarget.fuzz.seed", NetworkFuzzer.newSeed());
        NetworkFuzzer.Config config = new NetworkFuzzer.Config(jtarget.port(), DEFAULT_IQN, chapPort, CHAP_IQN,
                CHAP_INITIATOR, CHAP_USER, CHAP_SECRET, seed, Integer.getInteger("jtarget.fuzz.workers", 12),
                Duration.ofSeconds(Long.getLong("jtarget.fuzz.seconds", 40)),
                Integer.getInteger("jtarget.fuzz.connections", 100_000));
        System.out.printf("NetworkFuzzIT: seed %d (-Djtarget.fuzz.seed=%d reproduces it), %d workers, %d s, "
                + "at most %d connections%n", seed, seed, config.workers(), config.duration().toSeconds(),
                config.maxConnections());
        NetworkFuzzer fuzzer = new NetworkFuzzer(config);
        FuzzCounts counts = fuzzer.counts();

        IscsiClient victimClient = IscsiClient.connect("127.0.0.1", victimPort, VICTIM_TIMEOUT);
        assertEquals(0, victimClient.login(VICTIM_INITIATOR, 0x023d0000fa11L, VICTIM_IQN).loginStatus(),
                "victim login");
        assertTrue(victimClient.testUnitReady(0).good(), "victim TEST UNIT READY");
        Victim victim = new Victim(victimClient, 0, VICTIM_BLOCKS, new SplittableRandom(seed ^ 0x5eed), counts);
        Thread victimThread = new Thread(victim, "netfuzz-victim");
        long start = System.nanoTime();
        victimThread.start();
        int connections;
        try {
            connections = fuzzer.run();
        } finally {
            victim.stop();
            victimThread.join(VICTIM_TIMEOUT.toMillis() * 2);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Throwable victimFailure = victim.failure();
        if (victimFailure == null && !victimThread.isAlive()) {
            victim.verifyAll();
        }
        victimClient.close();
        System.out.printf("NetworkFuzzIT: %d connections in %.1f s (seed %d); victim: slowest operation %d ms%n%s",
                connections, took.toMillis() / 1000.0, seed, victim.slowestMillis(), counts.report());

        assertNull(victimFailure, () -> "the victim session failed: " + victimFailure);
        assertTrue(!victimThread.isAlive(), "the victim's last operation did not end");
        assertTrue(counts.get("victim: writes") > 0 && counts.get("victim: reads verified") > 0, "victim I/O ran");
        assertTrue(jtarget.alive(), () -> "the target process died\n" + jtarget.consoleTail());
        assertEquals(0, counts.sum("answer: UNEXPECTED"), "answers with an initiator opcode");
        assertEquals(0, counts.sum("end: connect failed"), "connections refused");
        assertEquals(0, counts.sum("end: stalled"), "answers that stopped in mid-PDU");

        forceGarbageCollection(); // leaked ByteBufs are reported once collected, at a later allocation
        freshLoginsWork();
        forceGarbageCollection();
        freshLoginsWork();
        List<String> bad = badLogLines();
        assertTrue(bad.isEmpty(), () -> bad.size() + " bad log lines, the first:\n  "
                + String.join("\n  ", bad.subList(0, Math.min(20, bad.size()))));
    }

    /** A normal login, a ping and an INQUIRY on the fuzzed target; a login and a read on the victim's. */
    private void freshLoginsWork() throws IOException {
        try (IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), VICTIM_TIMEOUT)) {
            assertEquals(0, c.login("iqn.2026-12.org.example:after-fuzz", 0x023d0000af7eL, DEFAULT_IQN).loginStatus(),
                    "login on the fuzzed target after the run");
            assertArrayEquals("after".getBytes(), c.ping("after".getBytes()), "NOP-In echo");
            IscsiClient.Result inquiry = c.command(0, new byte[] {0x12, 0, 0, 0, 96, 0}, 96, null);
            assertTrue(inquiry.good(), () -> "INQUIRY after the run: " + inquiry);
        }
        try (IscsiClient c = IscsiClient.connect("127.0.0.1", chapPort, VICTIM_TIMEOUT)) {
            assertEquals(0, c.loginChap(CHAP_INITIATOR, 0x023d0000af7fL, CHAP_IQN, CHAP_USER, CHAP_SECRET)
                    .loginStatus(), "CHAP login after the run");
        }
        try (IscsiClient c = IscsiClient.connect("127.0.0.1", victimPort, VICTIM_TIMEOUT)) {
            assertEquals(0, c.login(VICTIM_INITIATOR, 0x023d0000af80L, VICTIM_IQN).loginStatus(),
                    "second victim session");
            c.testUnitReady(0);
            assertTrue(c.read10(0, 0, 8, Victim.BLOCK).good(), "READ on the victim's LU");
        }
    }

    /** {@code jcmd PID GC.run} in the target, when the JDK has jcmd (else leaks show only if the heap filled). */
    private void forceGarbageCollection() {
        if (!Cmd.onPath("jcmd")) {
            System.out.println("NetworkFuzzIT: no jcmd on PATH: leak reports rely on the target's own GCs");
            return;
        }
        Cmd.Result r = Cmd.run(Duration.ofSeconds(60), "jcmd", Long.toString(jtarget.pid()), "GC.run");
        assertTrue(r.ok(), r::describe);
    }

    private List<String> badLogLines() throws IOException {
        List<String> bad = new ArrayList<>();
        Path log = jtarget.home().resolve("logs/jtarget.log");
        for (Path file : List.of(log, jtarget.dir().resolve("console.log"))) {
            try (Stream<String> lines = Files.lines(file, StandardCharsets.ISO_8859_1)) {
                lines.filter(l -> BAD_LOG_LINE.matcher(l).find()).forEach(l -> bad.add(file.getFileName() + ": " + l));
            }
        }
        // one line per failed connection: a peer that resets with writes queued must not flood the log. Ports are
        // reused by later connections, so only lines for one address within a second count as repeats.
        Map<String, List<Instant>> failures;
        try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            failures = lines.map(CONNECTION_FAILED::matcher).filter(Matcher::find)
                    .collect(Collectors.groupingBy(m -> m.group(2), Collectors.mapping(
                            m -> OffsetDateTime.parse(m.group(1)).toInstant(), Collectors.toList())));
        }
        failures.forEach((peer, times) -> {
            for (int i = 1; i < times.size(); i++) {
                if (Duration.between(times.get(i - 1), times.get(i)).toMillis() < 1000) {
                    bad.add("jtarget.log: the failure of the connection from " + peer + " logged again at "
                            + times.get(i));
                    return;
                }
            }
        });
        try (Stream<Path> crashes = Files.list(jtarget.home())) {
            crashes.filter(p -> p.getFileName().toString().startsWith("hs_err_pid"))
                    .forEach(p -> bad.add("JVM crash report " + p));
        }
        return bad;
    }
}
