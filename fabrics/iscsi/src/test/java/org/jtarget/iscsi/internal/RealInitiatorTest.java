package org.jtarget.iscsi.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end with real initiators (libiscsi's iscsi-ls and iscsi-inq, qemu-io's iscsi driver) against the
 * fabric on 127.0.0.1 and a free port, served by the test-only {@link FakeTargetCore}. Skipped, with the
 * reason printed, when a tool is not installed.
 */
class RealInitiatorTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:e2e";
    private static final String CHAP_TARGET = "iqn.2026-11.org.jtarget:chap";
    private static final String INITIATOR = "iqn.2026-11.org.example:e2e";
    private static FakeTargetCore core;
    private static IscsiFabric fabric;
    private static ExecutorService completions;
    private static String portal;

    @BeforeAll
    static void start() throws Exception {
        core = new FakeTargetCore();
        completions = Executors.newFixedThreadPool(2); // completions from another thread, as a real backstore does
        core.completionExecutor = completions;
        fabric = new IscsiFabric(core);
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        fabric.startPortal(any);
        InetSocketAddress bound = fabric.boundAddress(any);
        portal = "127.0.0.1:" + bound.getPort();
        core.addTarget(TARGET, 1, bound, 32768); // 16 MiB
        FakeTargetCore.FakeTpg chap = core.addTarget(CHAP_TARGET, 2, bound, 2048);
        chap.acl = Map.of(INITIATOR, new InitiatorAccess(true, Optional.of(
                new ChapCredentials("alice", "alicesecret12", "tgt", "targetsecret12"))));
    }

    @AfterAll
    static void stop() {
        if (fabric != null) {
            fabric.deactivate();
        }
        if (completions != null) {
            completions.shutdownNow();
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath(command[0]), () -> {
            System.out.println("SKIPPED: " + command[0] + " is not installed");
            return command[0] + " is not installed";
        });
        Path out = Files.createTempFile("iscsi-e2e", ".out");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            System.out.println("$ " + String.join(" ", command) + "\n" + output + "(exit " + process.exitValue() + ")");
            if (process.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited with " + process.exitValue() + ":\n"
                        + output);
            }
            return output;
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly(); // stop by handle (PID) of the process we started
            }
            Files.deleteIfExists(out);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void iscsiLsDiscoversTargetsAndLuns() throws Exception {
        String out = run("iscsi-ls", "-i", "iqn.2026-11.org.example:other", "-s", "iscsi://" + portal);
        assertTrue(out.contains("Target:" + TARGET + " Portal:" + portal + ",1"), out);
        assertTrue(!out.contains(CHAP_TARGET), "a target the initiator may not access is not reported:\n" + out);
        assertTrue(out.contains("Lun:0"), out);
    }

    @Test
    void iscsiInqReadsStandardInquiryAndVpd() throws Exception {
        String out = run("iscsi-inq", "-i", INITIATOR, "iscsi://" + portal + "/" + TARGET + "/0");
        assertTrue(out.contains("JTARGET"), out);
        String serial = run("iscsi-inq", "-i", INITIATOR, "-e", "1", "-c", "128", "iscsi://" + portal + "/" + TARGET
                + "/0");
        assertTrue(serial.contains("FAKE0001"), serial);
    }

    @Test
    void chapOneWayAndMutual() throws Exception {
        String url = "iscsi://alice%alicesecret12@" + portal + "/" + CHAP_TARGET + "/0";
        assertTrue(run("iscsi-inq", "-i", INITIATOR, url).contains("JTARGET"));
        String mutual = url + "?target_user=tgt&target_password=targetsecret12";
        assertTrue(run("iscsi-inq", "-i", INITIATOR, mutual).contains("JTARGET"));
        Assumptions.assumeTrue(onPath("iscsi-inq"));
        assertNotEquals(0, exitOf("iscsi-inq", "-i", INITIATOR,
                "iscsi://alice%wrongsecret99@" + portal + "/" + CHAP_TARGET + "/0"), "a wrong secret must fail");
        assertNotEquals(0, exitOf("iscsi-inq", "-i", INITIATOR,
                url + "?target_user=tgt&target_password=notthesecret1"), "a wrong target secret must fail");
    }

    private static int exitOf(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS));
            return process.exitValue();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void qemuIoWritesAndReadsBack() throws Exception {
        String url = "iscsi://" + portal + "/" + TARGET + "/0";
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw",
                "-c", "write -P 0xa5 0 1M",        // several R2T bursts and Data-Out PDUs
                "-c", "write -P 0x5a 4096 4096",   // immediate/unsolicited data
                "-c", "read -P 0xa5 0 4096",
                "-c", "read -P 0x5a 4096 4096",
                "-c", "read -P 0xa5 8192 1040384", // Data-In split at MaxRecvDataSegmentLength
                url));
        String out = run(command.toArray(String[]::new));
        assertTrue(!out.contains("Pattern verification failed"), out);
        assertEquals(3, out.split("read ", -1).length - 1, out);
    }
}
