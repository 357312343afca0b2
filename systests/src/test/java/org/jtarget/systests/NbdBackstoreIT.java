package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The nbd backstore in the distribution: a LUN on an nbdkit export (file plugin, started here on 127.0.0.1),
 * written and read by qemu over iSCSI and checked straight on nbdkit; nbdkit killed and started again while
 * the LUN exists: the LUN answers NOT READY, then serves the same data again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdBackstoreIT {
    private static final int LUN = 1;
    private static final long SIZE = 64L << 20;
    private JtargetInstance jtarget;
    private Path image;
    private int nbdPort;
    private Process nbdkit;

    @BeforeAll
    void start() throws Exception {
        Cmd.assumeInstalled("nbdkit", "nbdkit");
        jtarget = JtargetInstance.create("nbd");
        jtarget.start();
        image = jtarget.dir().resolve("nbd.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        nbdPort = JtargetInstance.freePort();
        startNbdkit();
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
        if (nbdkit != null) {
            nbdkit.destroy();
            nbdkit.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private String nbdUri() {
        return "nbd://127.0.0.1:" + nbdPort;
    }

    /** nbdkit in the foreground, stopped by its PID; returns once it accepts connections. */
    private void startNbdkit() throws IOException, InterruptedException {
        nbdkit = Nbdkit.start(jtarget.dir().resolve("nbdkit.log"), nbdPort, "file", image.toString());
    }

    @Test
    @Order(1)
    void anUnreachableServerIsRefusedAtCreationSayingWhy() throws IOException {
        int closed = JtargetInstance.freePort();
        Cmd.Result r = jtarget.exec("backstore:create unreachable nbd uri=nbd://127.0.0.1:" + closed + "/x");
        assertFalse(r.ok(), r::describe);
        assertTrue((r.out() + r.err()).contains("nbd://127.0.0.1:" + closed + "/x: connection refused"), r::describe);
        assertFalse(jtarget.execOk("backstore:list").contains("unreachable"), "nothing was created");
    }

    @Test
    @Order(2)
    void whatQemuWritesOverIscsiIsOnTheNbdServer() {
        Cmd.assumeQemuIscsi();
        jtarget.execOk("backstore:create d1 nbd uri=" + nbdUri());
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 " + LUN + " d1");
        String[] writes = {"write -P 0xa5 0 64k", "write -P 0x5a 1M 1M", "write -P 0x3c " + (SIZE - 4096) + " 4k"};
        String[] reads = {"read -P 0xa5 0 64k", "read -P 0x5a 1M 1M", "read -P 0x3c " + (SIZE - 4096) + " 4k"};
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, writes);
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, reads);
        // the same bytes, read by qemu straight from nbdkit
        Cmd.Result direct = Cmd.run(Duration.ofSeconds(60), qemuNbd(reads));
        assertTrue(direct.ok() && !direct.out().contains("verification failed"), direct::describe);
        // and the other way round: written on nbdkit, read through the LUN
        Cmd.Result written = Cmd.run(Duration.ofSeconds(60), qemuNbd("write -P 0x77 8M 128k"));
        assertTrue(written.ok(), written::describe);
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, "read -P 0x77 8M 128k");
    }

    private String[] qemuNbd(String... commands) {
        List<String> argv = new java.util.ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            argv.add("-c");
            argv.add(c);
        }
        argv.add(nbdUri());
        return argv.toArray(String[]::new);
    }

    @Test
    @Order(3)
    void aKilledServerMakesTheLunNotReadyUntilItIsBack() throws Exception {
        Cmd.assumeQemuIscsi();
        assertTrue(jtarget.execOk("backstore:list").contains("d1"), "created by the test before");
        try (IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), Duration.ofSeconds(60))) {
            assertEquals(0, c.login(Qemu.INITIATOR, 0x023d0000dd01L, DEFAULT_IQN).loginStatus());
            IscsiClient.Result before = readPastUnitAttentions(c);
            assertTrue(before.good(), before::toString);
            byte[] a5 = new byte[512];
            Arrays.fill(a5, (byte) 0xa5);
            assertArrayEquals(a5, before.data());

            nbdkit.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            // a read sent before jtarget noticed would wait (up to 30 s) for the connection to come back
            awaitLog("backstore d1: " + nbdUri() + ": connection lost");
            IscsiClient.Result down = waitFor(c, r -> !r.good(), "NOT READY while nbdkit is down");
            assertEquals(0x02, down.status(), down::toString); // CHECK CONDITION
            assertEquals(0x2, down.senseKey(), down::toString); // NOT READY
            assertEquals(0x04, down.ascq() >> 8, down::toString); // LOGICAL UNIT NOT READY

            startNbdkit();
            IscsiClient.Result back = waitFor(c, IscsiClient.Result::good, "served again once nbdkit is back");
            assertArrayEquals(a5, back.data(), "the data written before the kill");
            c.logout();
        }
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, "read -P 0x5a 1M 1M", "write -P 0x11 2M 64k", "read -P 0x11 2M 64k");
    }

    /**
     * The nbd bundle taken out of deploy/ and put back: its provider closes the export's connections as it
     * stops (the LUN goes offline), opens them again when it returns, and the data is still there.
     */
    @Test
    @Order(4)
    void theBundleRemovedAndReturnedReconnects() throws Exception {
        Cmd.assumeQemuIscsi();
        Path deploy = jtarget.home().resolve("deploy");
        Path jar;
        try (var jars = Files.newDirectoryStream(deploy, "jtarget-backstore-nbd-*.jar")) {
            jar = jars.iterator().next();
        }
        Path parked = jtarget.dir().resolve(jar.getFileName());
        Files.move(jar, parked);
        try {
            awaitState("offline");
        } finally {
            Files.move(parked, jar);
        }
        awaitState("online");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, "read -P 0x11 2M 64k", "read -P 0x3c " + (SIZE - 4096) + " 4k");
    }

    /**
     * Issue 7 §5: the nbd bundle replaced by a rebuilt jar while one qemu-io session writes (each write a
     * pattern of its own) and re-reads data written before. FileInstall updates the bundle: its provider
     * leaves (the LUN answers NOT READY, a retriable error) and comes back, the LUN is opened again on the
     * same export. No read ever returns wrong data, and every write answered GOOD reads back afterwards.
     */
    @Test
    @Order(6)
    void theBundleReplacedByARebuiltJarUnderIoNeverGivesWrongData() throws Exception {
        Cmd.assumeQemuIscsi();
        awaitState("online");
        Path deploy = jtarget.home().resolve("deploy");
        Path jar;
        try (var jars = Files.newDirectoryStream(deploy, "jtarget-backstore-nbd-*.jar")) {
            jar = jars.iterator().next();
        }
        Path log = jtarget.home().resolve("logs/jtarget.log");
        long arrivalsBefore = count(Files.readString(log), "Backstore type nbd is present");
        long base = 16L << 20;
        int writes = 120;
        List<String> load = new java.util.ArrayList<>();
        for (int i = 0; i < writes; i++) {
            load.add("write -P " + pattern(i) + " " + (base + i * 65536L) + " 64k");
            load.add("read -P 0x11 2M 64k"); // written by an earlier test, before the swap
            load.add("sleep 50");
        }
        Path out = jtarget.dir().resolve("hot-replace-qemu.out");
        Process qemu = Qemu.start(out, jtarget.portal(), DEFAULT_IQN, LUN, load.toArray(String[]::new));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Qemu.wroteOffsets(Qemu.read(out)).size() < 5) {
                if (System.nanoTime() > deadline || !qemu.isAlive()) {
                    fail("qemu-io did not start writing:\n" + Qemu.read(out));
                }
                Thread.sleep(50); // polling a condition with a deadline
            }
            rebuild(jar);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (count(Files.readString(log), "Backstore type nbd is present") <= arrivalsBefore) {
                if (System.nanoTime() > deadline) {
                    fail("the rebuilt nbd bundle did not come up within 60 s");
                }
                Thread.sleep(100); // polling a condition with a deadline
            }
            awaitState("online");
            assertTrue(qemu.waitFor(120, TimeUnit.SECONDS), () -> "qemu-io hung:\n" + Qemu.read(out));
        } finally {
            Qemu.stop(qemu, Duration.ofSeconds(1));
        }
        String output = Qemu.read(out);
        assertFalse(output.contains("verification failed"), () -> "wrong data returned:\n" + output);
        long readsGood = count(output, "read 65536/65536 bytes at offset 2097152");
        List<Long> acked = Qemu.wroteOffsets(output);
        long failed = count(output, "failed: ");
        assertEquals(2L * writes, acked.size() + readsGood + failed, () -> "every command GOOD or failed:\n" + output);
        assertEquals(failed, count(output, "SENSE KEY:NOT READY(2)"), () -> "failures other than NOT READY:\n" + output);
        List<String> check = new java.util.ArrayList<>();
        for (long offset : acked) {
            check.add("read -P " + pattern((int) ((offset - base) / 65536)) + " " + offset + " 64k");
        }
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, check.toArray(String[]::new));
        System.out.printf("NbdBackstoreIT bundle replaced under I/O: %d of %d writes GOOD (all read back), %d of %d"
                + " re-reads GOOD, %d commands failed (retriable) while the bundle was updated, 0 wrong data%n",
                acked.size(), writes, readsGood, writes, failed);
    }

    private static String pattern(int i) {
        return "0x" + Integer.toHexString(0x40 + i % 64);
    }

    private static long count(String s, String what) {
        long n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** A rebuilt jar: the same classes plus one new entry, moved over the deployed one (FileInstall updates). */
    private void rebuild(Path jar) throws IOException {
        Path rebuilt = jtarget.dir().resolve("rebuilt-" + jar.getFileName());
        try (var in = new java.util.zip.ZipInputStream(Files.newInputStream(jar));
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(rebuilt))) {
            for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
            out.putNextEntry(new java.util.zip.ZipEntry("META-INF/jtarget-rebuilt.txt"));
            out.write(("rebuilt at " + System.nanoTime() + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.closeEntry();
        }
        Files.move(rebuilt, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits (30 s at most) until jtarget's log has a line with {@code text}. */
    private void awaitLog(String text) throws IOException, InterruptedException {
        Path log = jtarget.home().resolve("logs/jtarget.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains(text)) {
            if (System.nanoTime() > deadline) {
                fail("no log line \"" + text + "\" within 30 s");
            }
            Thread.sleep(50); // polling a condition with a deadline
        }
    }

    /**
     * jtarget restarted while nbdkit is down: the restored backstore cannot open, is listed FAILED with the
     * reason, and the core's retries open it once nbdkit is back.
     */
    @Test
    @Order(5)
    void aRestoredBackstoreWhoseServerIsDownOpensWhenItReturns() throws Exception {
        Cmd.assumeQemuIscsi();
        assertTrue(jtarget.stop(), "jtarget stopped cleanly");
        nbdkit.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        jtarget.start();
        String failed = awaitState("failed");
        assertTrue(failed.contains("nbd://127.0.0.1:" + nbdPort + ": connection refused"), failed);
        startNbdkit();
        awaitState("online");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, LUN, "read -P 0x11 2M 64k");
    }

    /** Waits (60 s at most) until backstore d1 has {@code state} in {@code backstore:list}; its line. */
    private String awaitState(String state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String list = jtarget.exec("backstore:list").out();
            for (String line : list.split("\n")) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length > 2 && cols[0].equals("d1") && cols[2].equals(state)) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline) {
                fail("backstore d1 not " + state + " within 60 s:\n" + list);
            }
            Thread.sleep(200); // polling a condition with a deadline
        }
    }

    private static IscsiClient.Result readPastUnitAttentions(IscsiClient c) throws IOException {
        IscsiClient.Result r;
        do {
            r = c.read10(LUN, 0, 1, 512);
        } while (!r.good() && r.senseKey() == 0x6); // UNIT ATTENTION: a new LUN, a new nexus
        return r;
    }

    private static IscsiClient.Result waitFor(IscsiClient c, java.util.function.Predicate<IscsiClient.Result> what,
                                              String description) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        IscsiClient.Result r;
        while (!what.test(r = readPastUnitAttentions(c))) {
            if (System.nanoTime() > deadline) {
                fail(description + ": last " + r);
            }
            Thread.sleep(50); // polling a condition with a deadline
        }
        return r;
    }
}
