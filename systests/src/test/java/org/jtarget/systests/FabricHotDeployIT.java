package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 9 item 7: adding or removing a fabric bundle while iSCSI sessions run disturbs none of them. For
 * each fabric of {@link #fabrics()}: a target of that fabric is configured, then its bundle is copied
 * into deploy/ and removed again three times while one iSCSI session writes and reads a file LUN (every
 * round checked) and qemu-io sessions come and go; each time the fabric must serve once present and stop
 * listening once gone, and the iSCSI session must make progress in every phase and never fail.
 *
 * <p>The fabrics: the example {@code line} fabric (examples/line-fabric, built outside the tree) and the
 * NBD export fabric (fabrics/nbd: the jar the distribution put into deploy/, taken out first; probed with
 * {@code nbdinfo}).
 */
class FabricHotDeployIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** A fabric bundle under test: its name, where its jar comes from, and whether it serves a target. */
    interface Fabric {
        String name();

        /**
         * The bundle's jar, outside deploy/ (built, or moved out of the started instance's deploy/), to copy
         * into deploy/; skips the test when a tool the probe needs is missing.
         */
        Path jar(JtargetInstance jtarget) throws IOException;

        /** A target name valid for this fabric. */
        String target();

        /** Whether the fabric serves {@code target} on 127.0.0.1:{@code port} now (a session works). */
        boolean serves(int port, String target);
    }

    /** The example line fabric: LOGIN and TEST UNIT READY through its text protocol. */
    static final class LineFabric implements Fabric {
        @Override
        public String name() {
            return "line";
        }

        @Override
        public Path jar(JtargetInstance jtarget) throws IOException {
            return PluginBuild.build("line-fabric", jtarget.dir());
        }

        @Override
        public String target() {
            return "iqn.2026-11.org.example:hotdeploy";
        }

        @Override
        public boolean serves(int port, String target) {
            try (LineClient c = LineClient.connect(port, Duration.ofSeconds(10))) {
                return c.send("LOGIN " + target + " iqn.2026-11.org.example:probe").equals("OK")
                        && c.send("TUR").matches("OK|CHECK 6 .*"); // a new session's unit attention is an answer too
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /** The NBD export fabric of the distribution: an export answers {@code nbdinfo} when it serves. */
    static final class NbdFabric implements Fabric {
        @Override
        public String name() {
            return "nbd";
        }

        @Override
        public Path jar(JtargetInstance jtarget) throws IOException {
            Cmd.assumeInstalled("nbdinfo", "libnbd-bin");
            Path deploy = jtarget.home().resolve("deploy");
            Path jar;
            try (var jars = Files.newDirectoryStream(deploy, "jtarget-fabric-nbd-*.jar")) {
                var it = jars.iterator();
                if (!it.hasNext()) {
                    fail("no jtarget-fabric-nbd-*.jar in " + deploy);
                }
                jar = it.next();
            }
            return Files.move(jar, jtarget.dir().resolve(jar.getFileName()));
        }

        @Override
        public String target() {
            return "hotdeploy";
        }

        @Override
        public boolean serves(int port, String target) {
            return Cmd.run(Duration.ofSeconds(10), "nbdinfo", "nbd://127.0.0.1:" + port + "/" + target).ok();
        }

        @Override
        public String toString() {
            return name();
        }
    }

    static Stream<Fabric> fabrics() {
        return Stream.of(new LineFabric(), new NbdFabric());
    }

    @ParameterizedTest(name = "fabric {0}")
    @MethodSource("fabrics")
    void addingAndRemovingTheFabricBundleDisturbsNoIscsiSession(Fabric fabric) throws Exception {
        Cmd.assumeQemuIscsi();
        try (JtargetInstance jtarget = JtargetInstance.create("fabric-hotdeploy-" + fabric.name())) {
            jtarget.start();
            Path jar = fabric.jar(jtarget);
            int port = JtargetInstance.freePort();
            String target = fabric.target();
            jtarget.execOk("backstore:create hd memory size=16M");
            jtarget.execOk("target:create --fabric " + fabric.name() + " " + target);
            jtarget.execOk("tpg:create " + target + " 1");
            jtarget.execOk("tpg:set " + target + " 1 generate_node_acls true");
            jtarget.execOk("lun:add " + target + " 1 0 hd");
            jtarget.execOk("portal:add " + target + " 1 127.0.0.1:" + port);
            Path deployed = jtarget.home().resolve("deploy").resolve(jar.getFileName());
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "write -P 0x6b 0 1M");
            try (IscsiSurvivor survivor = IscsiSurvivor.start(jtarget.port(), DEFAULT_IQN, 0, 1 << 16)) {
                survivor.awaitRounds(20, WAIT, "before the fabric bundle arrived");
                for (int cycle = 1; cycle <= 3; cycle++) {
                    Files.copy(jar, deployed);
                    awaitServing(fabric, port, target, true, cycle);
                    survivor.awaitRounds(20, WAIT, "with fabric " + fabric.name() + " present (cycle " + cycle + ")");
                    Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "write -P 0x" + (cycle + 20) + " 2M 64k", "read -P 0x6b 0 1M");
                    Files.delete(deployed);
                    awaitServing(fabric, port, target, false, cycle);
                    survivor.awaitRounds(20, WAIT, "after fabric " + fabric.name() + " left (cycle " + cycle + ")");
                }
                long rounds = survivor.rounds();
                System.out.printf("FabricHotDeployIT %s: 3 arrivals and departures, the iSCSI session did %d write+read rounds, none failed%n",
                        fabric.name(), rounds);
            }
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "read -P 0x6b 0 1M", "read -P 0x23 2M 64k");
            assertEquals(true, jtarget.stop(), "a clean shutdown after the churn");
        }
    }

    private static void awaitServing(Fabric fabric, int port, String target, boolean serving, int cycle)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (fabric.serves(port, target) != serving) {
            if (System.nanoTime() > deadline) {
                fail("fabric " + fabric.name() + (serving ? " does not serve " : " still serves ") + target
                        + " on 127.0.0.1:" + port + " " + WAIT.toSeconds() + " s after its jar was "
                        + (serving ? "copied into" : "removed from") + " deploy/ (cycle " + cycle + ")");
            }
            Thread.sleep(200); // polling a condition with a deadline
        }
    }
}
