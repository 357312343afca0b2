package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Predicate;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 9 item 6: plugins built outside the tree. Builds examples/null-backstore and examples/line-fabric
 * with their own poms against the local repository (only jtarget-api and the contract test kit from this
 * build), drops the jars into a running instance's deploy/, uses them (a null LUN over iSCSI and through
 * the line fabric; a memory LU written through the line fabric and read over iSCSI), then removes them:
 * only their objects go offline or away, while one iSCSI session on the default target's file LUN writes
 * and reads throughout (before, during, after) and never fails.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PluginsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String LINE_IQN = "iqn.2026-11.org.example:line";
    private static JtargetInstance jtarget;
    private static IscsiSurvivor survivor;
    private static Path nullJar;
    private static Path lineJar;
    private static int linePort;

    @BeforeAll
    static void buildAndStart() throws Exception {
        Cmd.assumeQemuIscsi();
        jtarget = JtargetInstance.create("plugins");
        long t0 = System.nanoTime();
        nullJar = PluginBuild.build("null-backstore", jtarget.dir());
        lineJar = PluginBuild.build("line-fabric", jtarget.dir());
        System.out.printf("PluginsIT: both examples built outside the reactor in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        jtarget.start();
        linePort = JtargetInstance.freePort();
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "write -P 0x5a 0 1M");
        survivor = IscsiSurvivor.start(jtarget.port(), DEFAULT_IQN, 0, 1 << 16);
        survivor.awaitRounds(20, WAIT, "before any plugin arrived");
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (survivor != null) {
                System.out.printf("PluginsIT: the iSCSI session on the file LUN did %d write+read rounds (%d unit attentions"
                        + " retried), none failed%n", survivor.rounds(), survivor.unitAttentions());
                survivor.close();
            }
        } finally {
            if (jtarget != null) {
                jtarget.stop();
            }
        }
    }

    private static Path deploy(Path jar) {
        return jtarget.home().resolve("deploy").resolve(jar.getFileName());
    }

    @Test
    @Order(1)
    void theJarsDroppedIntoDeployServeOverIscsiAndTheLineFabric() throws Exception {
        assertFalse(types().contains("null"), "no null type before its bundle is deployed");
        // the line target is configured before its fabric exists; its portal starts when the fabric arrives
        jtarget.execOk("target:create --fabric line " + LINE_IQN);
        jtarget.execOk("tpg:create " + LINE_IQN + " 1");
        jtarget.execOk("tpg:set " + LINE_IQN + " 1 generate_node_acls true");
        jtarget.execOk("portal:add " + LINE_IQN + " 1 127.0.0.1:" + linePort);
        Files.copy(nullJar, deploy(nullJar));
        Files.copy(lineJar, deploy(lineJar));
        awaitOutput("backstore:types", out -> out.lines().anyMatch(l -> l.equals("null")), "the null type listed");

        jtarget.execOk("backstore:create nul null size=1G");
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 nul");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "read -P 0 0 1M", "write -P 0xa5 0 1M", "read -P 0 0 1M",
                "write -P 0x3c 1023M 1M", "read -P 0 1023M 1M");
        survivor.awaitRounds(20, WAIT, "with the null LUN in use");

        jtarget.execOk("backstore:create shared memory size=16M");
        jtarget.execOk("lun:add " + LINE_IQN + " 1 0 shared");
        jtarget.execOk("lun:add " + LINE_IQN + " 1 1 nul");
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 2 shared");
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 0x3c);
        try (LineClient line = awaitLineFabric()) {
            assertEquals("OK", line.send("LOGIN " + LINE_IQN + " iqn.2026-11.org.example:client"));
            assertEquals("CHECK 6 29 00", line.send("TUR"), "a new I_T nexus: POWER ON, RESET (SAM-5 5.14)");
            ready(line);
            assertEquals("OK 32768 512", line.send("CAPACITY"));
            assertEquals("OK", line.send("WRITE 8 " + HexFormat.of().formatHex(block)));
            assertEquals("OK " + HexFormat.of().formatHex(block), line.send("READ 8 8"));
            assertEquals("OK", line.send("FLUSH"));
            assertEquals("OK", line.send("LUN 1"));
            ready(line);
            assertEquals("OK 2097152 512", line.send("CAPACITY"));
            assertEquals("null", product(line.send("INQUIRY")));
            assertEquals("OK", line.send("WRITE 0 " + HexFormat.of().formatHex(block)));
            assertEquals("OK " + "00".repeat(4096), line.send("READ 0 8"), "the null LU discards what the line fabric wrote");
            assertEquals("CHECK 5 21 00", line.send("READ 2097152 1"), "past the end: LBA OUT OF RANGE");
            assertEquals("ERR READ: x (expected: a decimal number from 0 to 9223372036854775807)", line.send("READ x 1"));
            assertEquals("ERR WRITE: data of 3 characters (expected: an even number of hex digits)", line.send("WRITE 0 abc"));
            assertEquals("OK", line.send("TUR"), "a malformed line ends neither the connection nor the session");
        }
        // one LU, two fabrics: what the line fabric wrote, iSCSI reads
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 2, "read -P 0x3c 4k 4k", "read -P 0 0 4k");
        survivor.awaitRounds(20, WAIT, "with the line fabric in use");
    }

    @Test
    @Order(2)
    void removingTheJarsTakesAwayOnlyTheirObjects() throws Exception {
        LineClient session = awaitLineFabric();
        assertEquals("OK", session.send("LOGIN " + LINE_IQN + " iqn.2026-11.org.example:client"));
        ready(session);
        assertEquals("OK", session.send("LUN 1"));
        ready(session);

        Files.delete(deploy(nullJar));
        awaitOutput("backstore:list", out -> state(out, "nul").equals("offline"), "backstore nul offline");
        assertTrue(state(jtarget.execOk("backstore:list"), "shared").equals("online"), "the memory backstore stays online");
        assertFalse(types().lines().anyMatch(l -> l.equals("null")), "the null type is gone");
        try (IscsiClient probe = IscsiClient.connect("127.0.0.1", jtarget.port(), WAIT)) {
            assertEquals(0, probe.login("iqn.2026-11.org.example:probe", 0x023d0000beefL, DEFAULT_IQN).loginStatus());
            probe.testUnitReady(2);
            IscsiClient.Result r = probe.testUnitReady(1);
            assertEquals(2, r.senseKey(), "the null LUN answers NOT READY without its bundle: " + r);
            probe.logout();
        }
        assertEquals("CHECK 2 04 03", session.send("READ 0 1"),
                "the null LU through the line fabric: NOT READY, MANUAL INTERVENTION REQUIRED (its provider is gone)");
        assertEquals("OK", session.send("LUN 0"));
        assertEquals("OK " + "3c".repeat(512), session.send("READ 8 1"), "the memory LU still serves the line fabric");
        survivor.awaitRounds(20, WAIT, "after the null backstore left");

        if (Listeners.readable(jtarget.pid())) { // the check below sees the listener while the fabric is there
            assertTrue(Listeners.listens(jtarget.pid(), linePort), "jtarget's listener on " + linePort + " not found");
        }
        Files.delete(deploy(lineJar));
        assertThrows(IOException.class, () -> {
            while (true) { // the fabric closes its connections as it stops; until then the session answers
                session.send("READ 8 1");
            }
        });
        session.close();
        awaitNotListening(jtarget.pid(), linePort);
        assertTrue(jtarget.execOk("target:show " + LINE_IQN).contains("127.0.0.1:" + linePort),
                "the line target keeps its configuration without its fabric");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 2, "read -P 0x3c 4k 4k");
        survivor.awaitRounds(20, WAIT, "after the line fabric left");

        // back again: the null LUN comes online, the line portal listens again
        Files.copy(nullJar, deploy(nullJar));
        Files.copy(lineJar, deploy(lineJar));
        awaitOutput("backstore:list", out -> state(out, "nul").equals("online"), "backstore nul online again");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "read -P 0 0 64k");
        try (LineClient line = awaitLineFabric()) {
            assertEquals("OK", line.send("LOGIN " + LINE_IQN + " iqn.2026-11.org.example:client"));
            ready(line);
            assertEquals("OK " + "3c".repeat(512), line.send("READ 8 1"));
        }
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "read -P 0x5a 0 1M");
        survivor.awaitRounds(20, WAIT, "after the plugins returned");
    }

    /** TEST UNIT READY until it answers OK, past the unit attentions a new session gets on each LUN. */
    private static void ready(LineClient line) throws IOException {
        String answer = line.send("TUR");
        for (int i = 0; i < 4 && answer.startsWith("CHECK 6 "); i++) {
            answer = line.send("TUR");
        }
        assertEquals("OK", answer, "TEST UNIT READY past the unit attentions");
    }

    /** The product identification of standard INQUIRY data in a line answer ({@code OK hex}). */
    private static String product(String answer) {
        assertTrue(answer.startsWith("OK "), answer);
        byte[] inquiry = HexFormat.of().parseHex(answer.substring(3));
        return new String(inquiry, 16, 16, StandardCharsets.US_ASCII).trim();
    }

    private static String types() {
        return jtarget.execOk("backstore:types");
    }

    /** The STATE column of backstore {@code name} in {@code backstore:list}, or "" when not listed. */
    private static String state(String list, String name) {
        for (String line : list.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length > 2 && cols[0].equals(name)) {
                return cols[2];
            }
        }
        return "";
    }

    /** Polls a shell command until its output satisfies {@code condition}, at most {@link #WAIT}. */
    static String awaitOutput(JtargetInstance jtarget, String command, Predicate<String> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String out = jtarget.execOk(command);
            if (condition.test(out)) {
                return out;
            }
            if (System.nanoTime() > deadline) {
                fail(what + ": not within " + WAIT.toSeconds() + " s; " + command + " shows:\n" + out);
            }
            Thread.sleep(200); // polling a condition with a deadline
        }
    }

    private static String awaitOutput(String command, Predicate<String> condition, String what) throws InterruptedException {
        return awaitOutput(jtarget, command, condition, what);
    }

    /** Connects to the line portal once the fabric listens there (it starts when its bundle arrives). */
    private static LineClient awaitLineFabric() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return LineClient.connect(linePort, WAIT);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    fail("the line fabric does not listen on 127.0.0.1:" + linePort + " within " + WAIT.toSeconds() + " s: " + e);
                }
                Thread.sleep(200); // polling a condition with a deadline
            }
        }
    }

    /**
     * Waits until process {@code pid} no longer listens on the port: read from the kernel's socket tables on Linux
     * ({@link Listeners}), since another process may take the freed port at once; elsewhere until a connection is
     * refused.
     */
    static void awaitNotListening(long pid, int port) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            if (Listeners.readable(pid)) {
                if (!Listeners.listens(pid, port)) {
                    return;
                }
            } else {
                try (LineClient c = LineClient.connect(port, Duration.ofSeconds(5))) {
                    // still accepted: wait
                } catch (ConnectException e) {
                    return;
                } catch (IOException e) {
                    // closed while connecting: try again
                }
            }
            if (System.nanoTime() > deadline) {
                fail("jtarget (pid " + pid + ") still listens on 127.0.0.1:" + port + " " + WAIT.toSeconds()
                        + " s after its fabric left");
            }
            Thread.sleep(200); // polling a condition with a deadline
        }
    }
}
