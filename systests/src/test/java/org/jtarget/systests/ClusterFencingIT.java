package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two cluster nodes sharing one LUN, fenced the way Pacemaker's {@code fence_scsi} does it (SPC-4 5.9):
 * each node registers its key with REGISTER AND IGNORE EXISTING KEY (APTPL set), one reserves Write
 * Exclusive - Registrants Only (type 5), the survivor fences the other with PREEMPT AND ABORT naming the
 * other's key. The fenced node's writes then get RESERVATION CONFLICT (its reads still pass: type 5 only
 * keeps non-registrants from writing), the survivor's succeed; keys, reservation and full status read
 * back; all of it holds again after a restart of the target (APTPL), also in {@code pr:show}. Driven by
 * the systests' raw initiator (libiscsi's tools have no PERSISTENT RESERVE command line); libiscsi's own
 * PR conformance tests (SCSI.Prin*, SCSI.Prout*, two initiators) run against the same target first.
 */
class ClusterFencingIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String NODE1 = "iqn.2026-12.org.example:node1";
    private static final String NODE2 = "iqn.2026-12.org.example:node2";
    private static final long ISID1 = 0x023d00000001L;
    private static final long ISID2 = 0x023d00000002L;
    private static final long KEY1 = 0x6e6f646531L; // fence_scsi derives a key per node; any non-zero key does
    private static final long KEY2 = 0x6e6f646532L;
    private static final int TYPE_WE_RO = 5;
    private static final int BLOCK = 512;

    private JtargetInstance jtarget;
    private final List<IscsiClient> sessions = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        closeSessions();
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    private void closeSessions() throws IOException {
        for (IscsiClient c : sessions) {
            c.close();
        }
        sessions.clear();
    }

    /** A node's session on LUN 0 of the default target, its POWER ON unit attention cleared. */
    private IscsiClient node(String name, long isid) throws IOException {
        return node(name, isid, jtarget.port());
    }

    /** The same through the portal on {@code port} (a portal of another TPG: another target port). */
    private IscsiClient node(String name, long isid, int port) throws IOException {
        IscsiClient c = IscsiClient.connect("127.0.0.1", port, TIMEOUT);
        sessions.add(c);
        assertEquals(0, c.login(name, isid, DEFAULT_IQN).loginStatus(), name + " login");
        assertTrue(c.testUnitReady(0).good(), name + " TEST UNIT READY");
        return c;
    }

    // ---------------------------------------------------------------- PERSISTENT RESERVE OUT/IN (SPC-4 6.15, 6.16)

    static final int REGISTER_AND_IGNORE = 6, RESERVE = 1, PREEMPT_AND_ABORT = 5;

    static IscsiClient.Result prOut(IscsiClient c, int sa, int type, long key, long saKey, boolean aptpl)
            throws IOException {
        byte[] cdb = {0x5F, (byte) sa, (byte) type, 0, 0, 0, 0, 0, 24, 0};
        byte[] params = ByteBuffer.allocate(24).putLong(key).putLong(saKey).putInt(0)
                .put((byte) (aptpl ? 0x01 : 0)).array();
        return c.command(0, cdb, 0, params);
    }

    /** REGISTER AND MOVE (SPC-4 6.16.4) to the initiator port {@code port} on the target port {@code rtpi}. */
    private static IscsiClient.Result registerAndMove(IscsiClient c, int type, long key, long saKey, int rtpi,
                                                      String port) throws IOException {
        byte[] name = port.getBytes(StandardCharsets.UTF_8);
        int additional = Math.max(20, (name.length + 1 + 3) & ~3);
        ByteBuffer tid = ByteBuffer.allocate(4 + additional).put((byte) 0x45).put((byte) 0).putShort((short) additional)
                .put(name);
        byte[] params = ByteBuffer.allocate(24 + tid.capacity()).putLong(key).putLong(saKey).put((byte) 0)
                .put((byte) 0x02).putShort((short) rtpi).putInt(tid.capacity()).put(tid.array()).array(); // UNREG
        byte[] cdb = {0x5F, 7, (byte) type, 0, 0, 0, 0, 0, (byte) params.length, 0};
        return c.command(0, cdb, 0, params);
    }

    private static ByteBuffer prIn(IscsiClient c, int sa) throws IOException {
        IscsiClient.Result r = c.command(0, new byte[] {0x5E, (byte) sa, 0, 0, 0, 0, 0, 0x10, 0, 0}, 4096, null);
        assertTrue(r.good(), () -> "PERSISTENT RESERVE IN " + sa + ": " + r);
        return ByteBuffer.wrap(r.data());
    }

    private static List<Long> readKeys(IscsiClient c) throws IOException {
        ByteBuffer b = prIn(c, 0);
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < b.getInt(4) / 8; i++) {
            keys.add(b.getLong(8 + 8 * i));
        }
        return keys;
    }

    /** READ FULL STATUS as "key holder type rtpi transportid" lines. */
    private static List<String> fullStatus(IscsiClient c) throws IOException {
        ByteBuffer b = prIn(c, 3);
        List<String> out = new ArrayList<>();
        for (int off = 8; off < 8 + b.getInt(4); ) {
            int len = b.getInt(off + 20);
            byte[] tid = Arrays.copyOfRange(b.array(), off + 24, off + 24 + len);
            out.add(Long.toHexString(b.getLong(off)) + " " + ((b.get(off + 12) & 1) != 0 ? "holder" : "-") + " "
                    + b.get(off + 13) + " " + b.getShort(off + 18) + " " + String.format("%02x ", tid[0])
                    + new String(tid, 4, len - 4, StandardCharsets.UTF_8).replace("\0", ""));
            off += 24 + len;
        }
        return out;
    }

    private static IscsiClient.Result write(IscsiClient c, int lba, byte pattern) throws IOException {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, pattern);
        return c.write10(0, lba, data, BLOCK, true);
    }

    private static void assertConflict(IscsiClient.Result r, String what) {
        assertEquals(0x18, r.status(), () -> what + ": RESERVATION CONFLICT expected, got " + r);
    }

    private static void assertUnitAttention(IscsiClient c, int asc, int ascq, String what) throws IOException {
        IscsiClient.Result r = c.command(0, new byte[6], 0, null);
        assertEquals(0x02, r.status(), () -> what + ": CHECK CONDITION expected, got " + r);
        assertEquals(0x06, r.senseKey(), () -> what + ": UNIT ATTENTION expected, got " + r);
        assertEquals(asc << 8 | ascq, r.ascq(), () -> what + ": ASC/ASCQ, got " + r);
    }

    // ---------------------------------------------------------------- the scenario

    @Test
    void fenceScsiScenarioHoldsAcrossARestart() throws Exception {
        jtarget = JtargetInstance.create("fencing").start();
        IscsiClient n1 = node(NODE1, ISID1);
        IscsiClient n2 = node(NODE2, ISID2);

        // fence_scsi "on" for each node: register on every path, APTPL so that power loss does not unfence
        assertTrue(prOut(n1, REGISTER_AND_IGNORE, 0, 0, KEY1, true).good(), "node1 registers");
        assertTrue(prOut(n2, REGISTER_AND_IGNORE, 0, 0, KEY2, true).good(), "node2 registers");
        assertTrue(prOut(n1, RESERVE, TYPE_WE_RO, KEY1, 0, false).good(), "node1 reserves type 5");
        assertTrue(write(n1, 1, (byte) 0x11).good(), "registrants write");
        assertTrue(write(n2, 2, (byte) 0x22).good(), "registrants write");

        // fence_scsi "off" for node1, run by node2: PREEMPT AND ABORT with node1's key
        assertTrue(prOut(n2, PREEMPT_AND_ABORT, TYPE_WE_RO, KEY2, KEY1, false).good(), "node2 preempts node1");
        assertUnitAttention(n1, 0x2A, 0x05, "node1 hears REGISTRATIONS PREEMPTED");
        assertConflict(write(n1, 1, (byte) 0x13), "the fenced node's write");
        assertTrue(n1.read10(0, 2, 1, BLOCK).good(), "type 5 lets the fenced node read");
        assertTrue(write(n2, 2, (byte) 0x23).good(), "the survivor writes");

        List<String> expected = List.of(Long.toHexString(KEY2) + " holder 5 1 45 " + NODE2 + ",i,0x023d00000002");
        assertEquals(List.of(KEY2), readKeys(n1));
        ByteBuffer reservation = prIn(n1, 1);
        assertEquals(KEY2, reservation.getLong(8), "READ RESERVATION: the holder's key");
        assertEquals(TYPE_WE_RO, reservation.get(21), "READ RESERVATION: the type");
        assertEquals(expected, fullStatus(n1));
        int generation = prIn(n1, 0).getInt(0);
        String shown = jtarget.execOk("pr:show default");
        assertTrue(shown.contains("Write Exclusive - Registrants Only (type 5)") && shown.contains("APTPL:        yes")
                && shown.contains(NODE2 + ",i,0x023d00000002") && !shown.contains(NODE1), shown);

        // a power cycle of the target keeps all of it (APTPL, SPC-4 5.9.6)
        closeSessions();
        assertTrue(jtarget.stop(), "clean stop");
        jtarget.start();
        n1 = node(NODE1, ISID1);
        n2 = node(NODE2, ISID2);
        assertEquals(List.of(KEY2), readKeys(n1), "keys after the restart");
        assertEquals(expected, fullStatus(n2), "full status after the restart");
        assertEquals(generation, prIn(n2, 0).getInt(0), "PRGENERATION after the restart");
        assertConflict(write(n1, 1, (byte) 0x14), "the fenced node's write after the restart");
        assertTrue(write(n2, 2, (byte) 0x24).good(), "the survivor's write after the restart");
        IscsiClient.Result read = n1.read10(0, 2, 1, BLOCK);
        byte[] survivors = new byte[BLOCK];
        Arrays.fill(survivors, (byte) 0x24);
        assertArrayEquals(survivors, read.data(), "what the survivor wrote");

        // a new ISID is a new I_T nexus: not registered until it registers (what fence_scsi "on" does again)
        IscsiClient n1again = node(NODE1, ISID1 + 0x10);
        assertConflict(write(n1again, 1, (byte) 0x15), "node1 with a new ISID, unregistered");
        assertTrue(prOut(n1again, REGISTER_AND_IGNORE, 0, 0, KEY1, true).good(), "unfence: register again");
        assertTrue(write(n1again, 1, (byte) 0x15).good(), "a registrant writes under type 5");

        // the administrator's override: every registrant hears RESERVATIONS PREEMPTED
        assertTrue(jtarget.execOk("pr:clear default").contains("Cleared 2 registration(s)"));
        assertUnitAttention(n2, 0x2A, 0x03, "node2 hears RESERVATIONS PREEMPTED");
        assertEquals(List.of(), readKeys(n2));
        assertTrue(write(n1, 1, (byte) 0x16).good(), "no reservation: anyone writes");
    }

    /**
     * Two target ports (TPG 1 and TPG 2 of the default target, each with a portal, both mapping the LU): an
     * ALL_TG_PT registration made through one holds through the other; REGISTER AND MOVE hands the
     * reservation to node2's initiator port on the other target port, named by TransportID and RELATIVE
     * TARGET PORT IDENTIFIER.
     */
    @Test
    void allTargetPortsAndRegisterAndMoveAcrossTwoTargetPorts() throws Exception {
        jtarget = JtargetInstance.create("fencing-ports").start();
        int port2 = JtargetInstance.freePort();
        jtarget.execOk("tpg:create " + DEFAULT_IQN + " 2");
        jtarget.execOk("tpg:set " + DEFAULT_IQN + " 2 generate_node_acls true");
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 2 0 default");
        jtarget.execOk("portal:add " + DEFAULT_IQN + " 2 127.0.0.1:" + port2);
        IscsiClient n1 = node(NODE1, ISID1);
        IscsiClient n1port2 = node(NODE1, ISID1, port2);
        IscsiClient.Result all = n1.command(0, new byte[] {0x5F, 6, 0, 0, 0, 0, 0, 0, 24, 0}, 0,
                ByteBuffer.allocate(24).putLong(0).putLong(KEY1).putInt(0).put((byte) 0x04).array()); // ALL_TG_PT
        assertTrue(all.good(), () -> "REGISTER AND IGNORE EXISTING KEY with ALL_TG_PT: " + all);
        assertTrue(prOut(n1port2, RESERVE, 1, KEY1, 0, false).good(), "registered through the other port too");
        assertTrue(write(n1, 3, (byte) 0x31).good(), "both paths of node1 hold the reservation");
        assertTrue(write(n1port2, 3, (byte) 0x32).good(), "both paths of node1 hold the reservation");

        IscsiClient.Result moved = registerAndMove(n1, 3, KEY1, KEY2, 2, NODE2 + ",i,0x023d00000002");
        assertTrue(moved.good(), () -> "REGISTER AND MOVE: " + moved);
        IscsiClient n2port2 = node(NODE2, ISID2, port2);
        IscsiClient n2port1 = node(NODE2, ISID2);
        assertTrue(write(n2port2, 3, (byte) 0x33).good(), "node2 holds it on target port 2");
        assertConflict(n2port1.read10(0, 3, 1, BLOCK), "node2 through port 1 is another I_T nexus (Exclusive Access)");
        assertConflict(write(n1, 3, (byte) 0x34), "UNREG: node1 is no longer registered");
        assertEquals(List.of(Long.toHexString(KEY2) + " holder 3 2 45 " + NODE2 + ",i,0x023d00000002"),
                fullStatus(n2port2));
    }

    /** libiscsi's persistent reservation tests, as a real initiator (two initiator names) runs them. */
    @Test
    void libiscsiPersistentReservationTestsPass() throws Exception {
        Cmd.assumeInstalled("iscsi-test-cu", "libiscsi-bin");
        jtarget = JtargetInstance.create("fencing-libiscsi").start();
        jtarget.execOk("backstore:create prtests memory size=64M");
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 prtests");
        List<String> failed = new ArrayList<>();
        int passed = 0;
        for (String suite : List.of("PrinReadKeys", "PrinServiceactionRange", "PrinReportCapabilities",
                "ProutRegister", "ProutReserve", "ProutClear", "ProutPreempt")) {
            Cmd.Result r = Cmd.run(Duration.ofSeconds(120), "iscsi-test-cu", "-d", "-n",
                    "-i", "iqn.2026-12.org.example:libiscsi-1", "-I", "iqn.2026-12.org.example:libiscsi-2",
                    "--test=SCSI." + suite, jtarget.url(1));
            // CUnit's "Run Summary": "tests  TOTAL  RAN  PASSED  FAILED  INACTIVE"
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\n\\s*tests\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)")
                    .matcher(r.out());
            if (!r.ok() || !m.find() || !m.group(1).equals(m.group(3)) || !m.group(4).equals("0")
                    || m.group(1).equals("0")) {
                failed.add(r.describe());
            } else {
                passed += Integer.parseInt(m.group(3));
            }
        }
        assertEquals(List.of(), failed);
        assertTrue(passed >= 20, "libiscsi 1.19 has 20 tests in those seven suites, ran: " + passed);
        System.out.printf("ClusterFencingIT: libiscsi persistent reservation tests: %d passed, 0 failed%n", passed);
    }
}
