package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two paths to one LU with ALUA (SPC-4 5.15), against the started distribution: target {@link #IQN} has TPG 1
 * (portal 1, the default group, id 1) and TPG 2 (portal 2, group "west", id 2), both mapping the memory
 * backstore "shared" at LUN 0. REPORT TARGET PORT GROUPS through each path (the checks of libiscsi's development
 * test_rtpg_simple), libiscsi's MultipathIO suite over both paths, a live switch of west to standby from the shell
 * (I/O through TPG 2 gets NOT READY 04h/0Bh while TPG 1 serves; both nexuses see ASYMMETRIC ACCESS STATE CHANGED),
 * and the states after a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultipathAluaIT {
    static final String IQN = "iqn.2026-12.org.jtarget:shared";
    static final String HOST = "iqn.2026-12.org.example:cluster-node";
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final int BLOCK = 512;

    private JtargetInstance jtarget;
    private int port1;
    private int port2;
    private IscsiClient east;
    private IscsiClient west;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("multipath-alua");
        jtarget.start();
        port1 = JtargetInstance.freePort();
        port2 = JtargetInstance.freePort();
        twoPathTarget(jtarget, port1, port2);
    }

    /** The two-path target: TPG 1 on {@code port1} in the default group, TPG 2 on {@code port2} in "west" (id 2). */
    static void twoPathTarget(JtargetInstance jtarget, int port1, int port2) {
        jtarget.execOk("backstore:create shared memory size=64M");
        jtarget.execOk("target:create " + IQN);
        for (int tag : new int[] {1, 2}) {
            jtarget.execOk("tpg:create " + IQN + " " + tag);
            jtarget.execOk("tpg:set " + IQN + " " + tag + " generate_node_acls true");
            jtarget.execOk("lun:add " + IQN + " " + tag + " 0 shared");
        }
        jtarget.execOk("alua:create shared west 2");
        jtarget.execOk("alua:map " + IQN + " 2 0 west");
        jtarget.execOk("portal:add " + IQN + " 1 127.0.0.1:" + port1);
        jtarget.execOk("portal:add " + IQN + " 2 127.0.0.1:" + port2);
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @AfterEach
    void logout() throws IOException {
        close(east, west);
        east = null;
        west = null;
    }

    static void close(IscsiClient... clients) throws IOException {
        for (IscsiClient c : clients) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** A session through {@code port}, its POWER ON unit attention taken. */
    private IscsiClient path(int port, long isid) throws IOException {
        IscsiClient c = IscsiClient.connect("127.0.0.1", port, TIMEOUT);
        IscsiClient.Pdu login = c.login(HOST, isid, IQN);
        assertEquals(0, login.loginStatus(), "login through port " + port);
        IscsiClient.Result first = tur(c);
        assertEquals(0x2900, first.ascq(), () -> "POWER ON first through port " + port + ": " + first);
        return c;
    }

    private void twoPaths() throws IOException {
        east = path(port1, 0x023d00000001L);
        west = path(port2, 0x023d00000002L);
    }

    /** One TEST UNIT READY, as it comes (unit attentions included). */
    static IscsiClient.Result tur(IscsiClient c) throws IOException {
        return c.command(0, new byte[6], 0, null);
    }

    static byte[] rtpgCdb(int alloc) {
        return new byte[] {(byte) 0xA3, 0x0A, 0, 0, 0, 0, (byte) (alloc >>> 24), (byte) (alloc >>> 16),
                (byte) (alloc >>> 8), (byte) alloc, 0, 0};
    }

    /**
     * REPORT TARGET PORT GROUPS as libiscsi's test_rtpg_simple reads it: 4 bytes for the size, then all of it,
     * whose RETURN DATA LENGTH must not change; every group with its state and all its ports. Returns
     * "id state status [ports]" per group, by id.
     */
    static Map<Integer, String> groups(IscsiClient c) throws IOException {
        IscsiClient.Result head = c.command(0, rtpgCdb(4), 4, null);
        assertTrue(head.good(), () -> "RTPG(4): " + head);
        int full = 4 + ByteBuffer.wrap(head.data()).getInt(0);
        IscsiClient.Result all = c.command(0, rtpgCdb(full), full, null);
        assertTrue(all.good(), () -> "RTPG: " + all);
        byte[] d = all.data();
        assertEquals(full, d.length);
        assertEquals(full - 4, ByteBuffer.wrap(d).getInt(0), "RETURN DATA LENGTH stays the same");
        Map<Integer, String> out = new TreeMap<>();
        int off = 4;
        while (off + 8 <= d.length) {
            int state = d[off] & 0x0F;
            int id = ((d[off + 2] & 0xFF) << 8) | (d[off + 3] & 0xFF);
            int count = d[off + 7] & 0xFF;
            StringBuilder ports = new StringBuilder();
            for (int i = 0; i < count; i++) {
                int p = off + 8 + 4 * i;
                ports.append(i == 0 ? "" : ",").append(((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF));
            }
            assertEquals(0xCF, d[off + 1] & 0xFF, "supported states T O U S AN AO");
            out.put(id, state + " " + (d[off + 5] & 0xFF) + " [" + ports + "]");
            off += 8 + 4 * count;
        }
        assertEquals(d.length, off, "every port of every group retrieved");
        return out;
    }

    @Test
    @Order(1)
    void reportTargetPortGroupsThroughEachPathListsBothGroups() throws IOException {
        twoPaths();
        Map<Integer, String> expected = Map.of(1, "0 0 [1]", 2, "0 0 [2]"); // active/optimized, no status
        assertEquals(expected, groups(east));
        assertEquals(expected, groups(west));
        IscsiClient.Result inquiry = east.command(0, new byte[] {0x12, 0, 0, 0, 96, 0}, 96, null);
        assertEquals(0x30, inquiry.data()[5] & 0x30, "TPGS 11b: implicit and explicit");
    }

    @Test
    @Order(2)
    void libiscsiMultipathIoPassesOverTheTwoTpgs() {
        Assumptions.assumeTrue(Cmd.onPath("iscsi-test-cu"),
                "iscsi-test-cu (Debian package libiscsi-bin) is not installed: libiscsi's MultipathIO suite not run");
        Cmd.Result r = Cmd.run(Duration.ofMinutes(5), "iscsi-test-cu", "-d", "--test=ALL.MultipathIO",
                "-i", HOST + "-1", "-I", HOST + "-2",
                "iscsi://127.0.0.1:" + port1 + "/" + IQN + "/0", "iscsi://127.0.0.1:" + port2 + "/" + IQN + "/0");
        long passed = r.out().lines().filter(l -> l.contains("passed")).count();
        assertFalse(r.out().contains("FAILED"), r::describe);
        assertTrue(r.out().contains("found matching LU device identifier for all (2) paths"), r::describe);
        assertEquals(4, passed, r::describe);
    }

    @Test
    @Order(3)
    void standbyFromTheShellMovesIoToTheOtherPath() throws IOException {
        twoPaths();
        byte[] pattern = new byte[8 * BLOCK];
        Arrays.fill(pattern, (byte) 0x5a);
        assertTrue(west.write10(0, 40, pattern, BLOCK, true).good(), "west serves before the switch");

        jtarget.execOk("alua:set shared west state standby");

        for (IscsiClient c : new IscsiClient[] {east, west}) { // ASYMMETRIC ACCESS STATE CHANGED on every nexus
            IscsiClient.Result ua = tur(c);
            assertEquals(0x6, ua.senseKey(), ua::toString);
            assertEquals(0x2A06, ua.ascq(), ua::toString);
        }
        IscsiClient.Result refused = west.read10(0, 40, 8, BLOCK);
        assertEquals(0x2, refused.senseKey(), refused::toString); // NOT READY
        assertEquals(0x040B, refused.ascq(), refused::toString); // TARGET PORT IN STANDBY STATE
        IscsiClient.Result write = west.write10(0, 40, new byte[8 * BLOCK], BLOCK, true);
        assertEquals(0x040B, write.ascq(), write::toString);
        IscsiClient.Result read = east.read10(0, 40, 8, BLOCK);
        assertTrue(read.good(), read::toString);
        assertArrayEquals(pattern, read.data(), "east serves what west wrote; the refused write changed nothing");
        // the initiator learns why through either path: west is standby, altered implicitly (STATUS CODE 02h)
        Map<Integer, String> expected = Map.of(1, "0 0 [1]", 2, "2 2 [2]");
        assertEquals(expected, groups(east));
        assertEquals(expected, groups(west)); // standby allows REPORT TARGET PORT GROUPS
        String list = jtarget.execOk("alua:list shared");
        assertTrue(list.lines().anyMatch(l -> l.matches("west +2 +standby .*" + IQN + "/2/0.*")), list);
    }

    @Test
    @Order(4)
    void statesSurviveARestart() throws Exception {
        assertTrue(jtarget.stop(), "clean stop");
        jtarget.start();
        twoPaths();
        // the state and its STATUS CODE (02h: altered implicitly, by the administrator) are kept
        assertEquals(Map.of(1, "0 0 [1]", 2, "2 2 [2]"), groups(east));
        assertTrue(tur(east).good());
        IscsiClient.Result refused = west.read10(0, 0, 1, BLOCK);
        assertEquals(0x040B, refused.ascq(), refused::toString);
        jtarget.execOk("alua:set shared west state active_optimized");
        IscsiClient.Result ua = tur(west);
        assertEquals(0x2A06, ua.ascq(), ua::toString);
        assertTrue(west.read10(0, 0, 1, BLOCK).good(), "west serves again");
    }
}
