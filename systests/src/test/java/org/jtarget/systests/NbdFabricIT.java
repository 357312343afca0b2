package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The NBD export fabric in the distribution, with real NBD clients (qemu-io, nbdinfo, nbdcopy from libnbd):
 * two exports on one portal, data across a restart, allocation after write and trim, copies in and out,
 * and one LU served over iSCSI and NBD at once, where an iSCSI persistent reservation binds NBD writers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdFabricIT {
    private static final String DISK = "disk1";
    private static final String SHARED = "shared";
    private JtargetInstance jtarget;
    private int nbdPort;

    @BeforeAll
    void start() throws Exception {
        Cmd.assumeInstalled("qemu-io", "qemu-utils");
        Cmd.assumeInstalled("nbdinfo", "libnbd-bin");
        Cmd.assumeInstalled("nbdcopy", "libnbd-bin");
        jtarget = JtargetInstance.create("nbdfabric");
        jtarget.start();
        nbdPort = JtargetInstance.freePort();
        String portal = "127.0.0.1:" + nbdPort;
        jtarget.execOk("backstore:create d1 file file=d1.img size=64M");
        jtarget.execOk("backstore:create m1 memory size=32M");
        for (String[] e : new String[][] {{DISK, "d1"}, {SHARED, "m1"}}) {
            jtarget.execOk("target:create --fabric nbd " + e[0]);
            jtarget.execOk("tpg:create " + e[0] + " 1");
            jtarget.execOk("tpg:set " + e[0] + " 1 generate_node_acls true");
            jtarget.execOk("portal:add " + e[0] + " 1 " + portal);
            jtarget.execOk("lun:add " + e[0] + " 1 0 " + e[1]);
        }
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 m1"); // the same LU over iSCSI
        awaitNbd();
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    private String uri(String export) {
        return "nbd://127.0.0.1:" + nbdPort + "/" + export;
    }

    /** The fabric bundle is hot-deployed from deploy/: waits until its portal lists the exports. */
    private void awaitNbd() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Cmd.Result r;
        while (!(r = Cmd.run(Duration.ofSeconds(10), "nbdinfo", "--list", "nbd://127.0.0.1:" + nbdPort)).ok()) {
            if (System.nanoTime() > deadline) {
                fail("nbd://127.0.0.1:" + nbdPort + ": not serving after 60 s: " + r.err() + "\n" + jtarget.consoleTail());
            }
            Thread.sleep(300);
        }
    }

    private static String qemuIo(String uri, String... commands) {
        String[] argv = new String[3 + 2 * commands.length + 1];
        argv[0] = "qemu-io";
        argv[1] = "-f";
        argv[2] = "raw";
        for (int i = 0; i < commands.length; i++) {
            argv[3 + 2 * i] = "-c";
            argv[4 + 2 * i] = commands[i];
        }
        argv[argv.length - 1] = uri;
        Cmd.Result r = Cmd.run(argv);
        return r.out() + r.err();
    }

    private static void assertOk(String output) {
        assertFalse(output.contains("failed") || output.contains("rror"), output);
    }

    @Test
    @Order(1)
    void listShowsBothExportsWithTheirLimits() {
        Cmd.Result r = Cmd.run("nbdinfo", "--list", "nbd://127.0.0.1:" + nbdPort);
        assertTrue(r.ok(), r.err());
        assertTrue(r.out().contains("export=\"" + DISK + "\"") && r.out().contains("export=\"" + SHARED + "\""), r.out());
        assertTrue(r.out().contains("block_size_maximum: 33554432") && r.out().contains("can_multi_conn: true"), r.out());
        assertTrue(jtarget.execOk("target:show " + DISK).contains("[fabric nbd]"));
    }

    @Test
    @Order(2)
    void patternsSurviveAFlushAndARestart() throws Exception {
        String[] writes = {"write -P 0x11 0 64k", "write -P 0x22 1028k 4k", "write -P 0x33 40M 1M", "write -P 0x44 63M 1M"};
        String out = qemuIo(uri(DISK), writes[0], writes[1], writes[2], writes[3], "flush");
        assertOk(out);
        assertEquals(4, out.split("wrote ", -1).length - 1, out);
        jtarget.stop();
        jtarget.start();
        awaitNbd();
        out = qemuIo(uri(DISK), "read -P 0x11 0 64k", "read -P 0x22 1028k 4k", "read -P 0x33 40M 1M",
                "read -P 0x44 63M 1M", "read -P 0 64k 964k");
        assertOk(out);
        assertEquals(5, out.split("read ", -1).length - 1, out);
    }

    /** The extent type nbdinfo --map gives at {@code offset}: "data" or "hole,zero". */
    private String allocationAt(long offset) {
        Cmd.Result r = Cmd.run("nbdinfo", "--map", uri(DISK));
        assertTrue(r.ok(), r.err());
        for (String line : r.out().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && Long.parseLong(f[0]) <= offset && offset < Long.parseLong(f[0]) + Long.parseLong(f[1])) {
                return f[3];
            }
        }
        throw new AssertionError("no extent at " + offset + " in\n" + r.out());
    }

    @Test
    @Order(3)
    void mapFollowsWritesAndTrims() {
        long at = 16L << 20;
        assertOk(qemuIo(uri(DISK), "write -z -u " + at + " 1M"));
        assertTrue(allocationAt(at).startsWith("hole"), "zeroed with unmap: a hole");
        assertOk(qemuIo(uri(DISK), "write -P 0x55 " + at + " 1M"));
        assertEquals("data", allocationAt(at));
        assertOk(qemuIo(uri(DISK), "discard " + at + " 1M"));
        assertEquals("hole,zero", allocationAt(at));
        assertOk(qemuIo(uri(DISK), "read -P 0 " + at + " 1M"));
    }

    @Test
    @Order(4)
    void nbdcopyCopiesInAndOut() throws Exception {
        Path in = jtarget.dir().resolve("in.bin");
        Path out = jtarget.dir().resolve("out.bin");
        byte[] data = new byte[8 << 20];
        new Random(7).nextBytes(data);
        Files.write(in, data);
        Cmd.Result r = Cmd.run("nbdcopy", in.toString(), uri(DISK));
        assertTrue(r.ok(), r.err());
        r = Cmd.run("nbdcopy", uri(DISK), out.toString());
        assertTrue(r.ok(), r.err());
        byte[] back = Files.readAllBytes(out);
        assertEquals(64 << 20, back.length);
        assertArrayEquals(data, java.util.Arrays.copyOf(back, data.length));
    }

    /** PERSISTENT RESERVE OUT (SPC-4 6.16) with a 24-byte parameter list. */
    private static byte[] prOut(int action, int type) {
        byte[] cdb = new byte[10];
        cdb[0] = 0x5F;
        cdb[1] = (byte) action;
        cdb[2] = (byte) type;
        cdb[8] = 24;
        return cdb;
    }

    private static byte[] prList(long key, long serviceKey) {
        return ByteBuffer.allocate(24).putLong(key).putLong(serviceKey).array();
    }

    @Test
    @Order(5)
    void oneLuTwoFabricsAndAnIscsiReservationBindsNbdWriters() throws Exception {
        Cmd.assumeQemuIscsi();
        String iscsi = jtarget.url(1);
        assertOk(qemuIo(iscsi, "write -P 0x5a 1M 64k"));
        assertOk(qemuIo(uri(SHARED), "read -P 0x5a 1M 64k", "write -P 0xa5 2M 64k"));
        assertOk(qemuIo(iscsi, "read -P 0xa5 2M 64k"));

        long key = 0x1234abcdL;
        try (IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), Duration.ofSeconds(10))) {
            c.login("iqn.2026-11.org.example:holder", 0x23d000000001L, DEFAULT_IQN);
            c.testUnitReady(1); // takes the UNIT ATTENTION of the new nexus
            IscsiClient.Result reg = c.command(1, prOut(0, 0), 0, prList(0, key));
            assertTrue(reg.good(), "REGISTER: " + reg);
            IscsiClient.Result res = c.command(1, prOut(1, 1), 0, prList(key, 0)); // Write Exclusive
            assertTrue(res.good(), "RESERVE: " + res);

            String refused = qemuIo(uri(SHARED), "write -P 0x77 3M 64k");
            assertTrue(refused.contains("Operation not permitted"), "NBD write under Write Exclusive: " + refused);
            assertOk(qemuIo(uri(SHARED), "read -P 0xa5 2M 64k"));
            assertOk(qemuIo(iscsi, "read -P 0 3M 64k"));
        } finally {
            jtarget.execOk("pr:clear m1");
        }
        assertOk(qemuIo(uri(SHARED), "write -P 0x77 3M 64k", "read -P 0x77 3M 64k"));
    }
}
