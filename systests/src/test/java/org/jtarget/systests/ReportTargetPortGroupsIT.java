package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * REPORT TARGET PORT GROUPS (SPC-4 6.37) checked byte by byte through both paths of {@link MultipathAluaIT}'s
 * two-path target, in both formats, with every settable state and PREF both ways. It covers what the
 * ReportTargetPortGroups tests of libiscsi's development version check (they are not in Debian's libiscsi 1.19
 * and cannot be built where the tests run; their names are cited where a check covers them), and what they do not:
 * the exact state and PREF (libiscsi's byte 0 decoding reads them from the wrong bits before its commit
 * "bit field order in TPG descriptor byte0"), the supported-state bits, STATUS CODE, the relative target port
 * identifiers, the extended header, the reserved bits, TARGET PORT GROUP against VPD 83h, and the STATUS CODE
 * and IMPLICIT TRANSITION TIME after a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReportTargetPortGroupsIT {
    static final String IQN = MultipathAluaIT.IQN;
    static final String HOST = MultipathAluaIT.HOST;
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final List<String> STATES = List.of("active_optimized", "active_nonoptimized", "standby", "unavailable",
            "offline");
    static final Map<String, Integer> CODES = Map.of("active_optimized", 0x0, "active_nonoptimized", 0x1,
            "standby", 0x2, "unavailable", 0x3, "offline", 0xE);

    private JtargetInstance jtarget;
    private int port1;
    private int port2;
    private IscsiClient east;
    private IscsiClient west;

    /** What one group descriptor should say. */
    record Expected(int id, int state, boolean pref, int status, List<Integer> ports) {
    }

    /** One group descriptor as a short buffer may carry it: its TARGET PORT COUNT and the ports that fitted. */
    record Group(int byte0, int support, int id, int reserved, int status, int count, List<Integer> ports,
                 List<Integer> obsolete) {
        int state() {
            return byte0 & 0x0F;
        }

        boolean pref() {
            return (byte0 & 0x80) != 0;
        }
    }

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("rtpg");
        jtarget.start();
        port1 = JtargetInstance.freePort();
        port2 = JtargetInstance.freePort();
        MultipathAluaIT.twoPathTarget(jtarget, port1, port2);
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @AfterEach
    void logout() throws IOException {
        MultipathAluaIT.close(east, west);
        east = null;
        west = null;
    }

    private void twoPaths() throws IOException {
        east = login(port1, 0x023d00000011L);
        west = login(port2, 0x023d00000012L);
    }

    private static IscsiClient login(int port, long isid) throws IOException {
        IscsiClient c = IscsiClient.connect("127.0.0.1", port, TIMEOUT);
        assertEquals(0, c.login(HOST, isid, IQN).loginStatus(), "login through port " + port);
        return c;
    }

    /** Takes the unit attentions a change left (POWER ON, ASYMMETRIC ACCESS STATE CHANGED) with TEST UNIT READY. */
    static void drainUnitAttentions(IscsiClient c) throws IOException {
        for (int i = 0; i < 8; i++) {
            if (MultipathAluaIT.tur(c).senseKey() != 0x6) {
                return;
            }
        }
        throw new AssertionError("unit attentions do not end");
    }

    static byte[] rtpgCdb(int format, int alloc) {
        byte[] cdb = MultipathAluaIT.rtpgCdb(alloc);
        cdb[1] = (byte) (format << 5 | 0x0A);
        return cdb;
    }

    static IscsiClient.Result rtpg(IscsiClient c, int format, int alloc) throws IOException {
        return c.command(0, rtpgCdb(format, alloc), alloc, null);
    }

    /**
     * The group descriptors in {@code d} from {@code off}, as an initiator reads a short buffer: a descriptor cut
     * in its 8 bytes is not counted, one whose ports were cut keeps the ports that fitted.
     */
    static List<Group> parse(byte[] d, int off) {
        List<Group> out = new ArrayList<>();
        while (off + 8 <= d.length) {
            int count = d[off + 7] & 0xFF;
            List<Integer> ports = new ArrayList<>();
            List<Integer> obsolete = new ArrayList<>();
            int p = off + 8;
            for (int k = 0; k < count && p + 4 <= d.length; k++, p += 4) {
                obsolete.add(((d[p] & 0xFF) << 8) | (d[p + 1] & 0xFF));
                ports.add(((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF));
            }
            out.add(new Group(d[off] & 0xFF, d[off + 1] & 0xFF, ((d[off + 2] & 0xFF) << 8) | (d[off + 3] & 0xFF),
                    d[off + 4] & 0xFF, d[off + 5] & 0xFF, count, ports, obsolete));
            off = p;
        }
        return out;
    }

    /**
     * Everything REPORT TARGET PORT GROUPS returns through {@code c} in {@code format}, checked against
     * {@code expected} (by TARGET PORT GROUP) and {@code transitionTime}; returns the full parameter data.
     */
    static byte[] check(IscsiClient c, int format, List<Expected> expected, int transitionTime, String path)
            throws IOException {
        String where = path + " format " + format + ": ";
        // test_rtpg_simple, test_rtpg_alloc_length: "Retrieving 4 bytes of RTPG data" is GOOD and gives the size
        IscsiClient.Result head = rtpg(c, format, 4);
        assertTrue(head.good(), () -> where + "RTPG(4): " + head);
        assertEquals(4, head.data().length, where + "4 bytes");
        int full = 4 + ByteBuffer.wrap(head.data()).getInt(0);
        int header = format == 1 ? 8 : 4;
        // test_rtpg_simple, test_rtpg_alloc_length: "Retrieving all RTPG data"; "data size stays the same"
        IscsiClient.Result all = rtpg(c, format, full);
        assertTrue(all.good(), () -> where + "RTPG(" + full + "): " + all);
        byte[] d = all.data();
        assertEquals(full, d.length, where + "RETURN DATA LENGTH + 4 bytes come");
        assertEquals(full - 4, ByteBuffer.wrap(d).getInt(0), where + "RETURN DATA LENGTH stays the same");
        if (format == 1) { // SPC-4 table 306: FORMAT TYPE 001b (bits 6-4), IMPLICIT TRANSITION TIME, 2 reserved
            assertEquals(0x10, d[4] & 0xFF, where + "byte 4: FORMAT TYPE 001b, other bits reserved");
            assertEquals(transitionTime, d[5] & 0xFF, where + "IMPLICIT TRANSITION TIME");
            assertEquals(0, d[6] | d[7], where + "bytes 6-7 reserved");
        }
        List<Group> groups = parse(d, header);
        int ioReady = 0;
        Map<Integer, Expected> byId = new TreeMap<>();
        expected.forEach(e -> byId.put(e.id(), e));
        assertEquals(byId.keySet(), new java.util.TreeSet<>(groups.stream().map(Group::id).toList()),
                where + "one descriptor per group");
        assertEquals(expected.size(), groups.size(), where + "no group twice");
        for (Group g : groups) {
            Expected e = byId.get(g.id());
            String at = where + "group " + g.id() + ": ";
            // test_rtpg_simple: "Valid ALUA state" (here: exactly the state set) and PREF, bits 6-4 reserved
            assertEquals(e.state(), g.state(), at + "ASYMMETRIC ACCESS STATE");
            assertEquals(e.pref(), g.pref(), at + "PREF");
            assertEquals(0, g.byte0() & 0x70, at + "byte 0 bits 6-4 reserved");
            // T_SUP O_SUP U_SUP S_SUP AN_SUP AO_SUP set, LBD_SUP and bit 5 clear
            assertEquals(0xCF, g.support(), at + "supported states");
            assertEquals(0, g.reserved(), at + "byte 4 reserved");
            assertEquals(e.status(), g.status(), at + "STATUS CODE");
            // test_rtpg_simple: "Since we retrieved full size, we get all port ids"
            assertEquals(g.count(), g.ports().size(), at + "every port retrieved");
            assertEquals(e.ports(), g.ports(), at + "RELATIVE TARGET PORT IDENTIFIERs");
            assertTrue(g.obsolete().stream().allMatch(o -> o == 0), at + "obsolete bytes 0");
            if (g.state() == 0x0 || g.state() == 0x1) {
                ioReady++;
            }
        }
        assertTrue(ioReady > 0, where + "test_rtpg_simple: some group is active (io_ready_groups > 0)");
        truncations(c, format, d, groups, where);
        return d;
    }

    /**
     * test_rtpg_alloc_length for every group: the buffer boundary cuts its descriptor in half (the group is not
     * there, the ones before are, with all their ports), ends with its descriptor (there, without ports, with its
     * TARGET PORT COUNT), ends after its first port (one port retrieved); and beyond libiscsi: every allocation
     * length from 0 to the full size and beyond gives GOOD and exactly that prefix of the data.
     */
    static void truncations(IscsiClient c, int format, byte[] full, List<Group> groups, String where)
            throws IOException {
        int header = format == 1 ? 8 : 4;
        int size = header;
        for (int group = 0; group < groups.size(); group++) {
            size += 4; // "Buffer boundary cuts descriptor of group %d in half"
            List<Group> cut = parse(short_(c, format, size, full, where), header);
            assertEquals(group, cut.size(), where + "alloc " + size + ": the cut group is not there");
            allPortsBefore(cut, groups, group, where + "alloc " + size);
            size += 4; // "Buffer boundary at the end of descriptor of group %d"
            List<Group> ends = parse(short_(c, format, size, full, where), header);
            assertEquals(group + 1, ends.size(), where + "alloc " + size);
            allPortsBefore(ends, groups, group, where + "alloc " + size);
            assertEquals(0, ends.get(group).ports().size(), where + "alloc " + size + ": no ports retrieved");
            assertEquals(groups.get(group).count(), ends.get(group).count(), where + "TARGET PORT COUNT kept");
            if (groups.get(group).count() == 0) {
                continue;
            }
            size += 4; // "Just one port of group %d fits the buffer"
            List<Group> one = parse(short_(c, format, size, full, where), header);
            assertEquals(1, one.get(group).ports().size(), where + "alloc " + size + ": one port");
            size += 4 * (groups.get(group).count() - 1);
        }
        assertEquals(full.length, size, where + "the descriptors fill the data exactly");
        for (int alloc = 0; alloc <= full.length + 8; alloc++) {
            short_(c, format, alloc, full, where);
        }
    }

    private static byte[] short_(IscsiClient c, int format, int alloc, byte[] full, String where) throws IOException {
        IscsiClient.Result r = rtpg(c, format, alloc);
        assertTrue(r.good(), () -> where + "alloc " + alloc + ": " + r);
        assertArrayEquals(Arrays.copyOf(full, Math.min(alloc, full.length)), r.data(), where + "alloc " + alloc);
        return r.data();
    }

    private static void allPortsBefore(List<Group> partial, List<Group> groups, int group, String where) {
        for (int i = 0; i < group; i++) {
            assertEquals(partial.get(i).count(), partial.get(i).ports().size(), where + ": group " + i + " whole");
            assertEquals(groups.get(i).ports(), partial.get(i).ports(), where + ": group " + i + " ports");
        }
    }

    /**
     * VPD page 83h through {@code c}: RELATIVE TARGET PORT (designator type 4) and TARGET PORT GROUP (type 5),
     * both with association 01b (target port).
     */
    static int[] vpd83(IscsiClient c) throws IOException {
        IscsiClient.Result r = c.command(0, new byte[] {0x12, 1, (byte) 0x83, 0x04, 0, 0}, 1024, null);
        assertTrue(r.good(), r::toString);
        byte[] d = r.data();
        int rtpi = -1;
        int tpg = -1;
        for (int off = 4; off + 4 <= d.length; off += 4 + (d[off + 3] & 0xFF)) {
            int assoc = (d[off + 1] >> 4) & 0x3;
            int type = d[off + 1] & 0xF;
            int value = ((d[off + 6] & 0xFF) << 8) | (d[off + 7] & 0xFF);
            if (assoc == 1 && type == 4) {
                rtpi = value;
            } else if (assoc == 1 && type == 5) {
                tpg = value;
            }
        }
        return new int[] {rtpi, tpg};
    }

    private void set(String group, String key, String value) {
        jtarget.execOk("alua:set shared " + group + " " + key + " " + value);
    }

    @Test
    @Order(1)
    void everyStateWithAndWithoutPrefThroughBothPathsInBothFormats() throws IOException {
        twoPaths();
        for (IscsiClient c : new IscsiClient[] {east, west}) { // TARGET PORT GROUP of VPD 83h = the path's group
            drainUnitAttentions(c);
        }
        assertArrayEquals(new int[] {1, 1}, vpd83(east), "east: RELATIVE TARGET PORT 1 in group 1");
        assertArrayEquals(new int[] {2, 2}, vpd83(west), "west: RELATIVE TARGET PORT 2 in group 2");
        int run = 0;
        for (String state : STATES) {
            for (boolean pref : new boolean[] {false, true}) {
                String other = run++ % 2 == 0 ? "active_optimized" : "active_nonoptimized";
                set("default_tg_pt_gp", "state", other);
                set("default_tg_pt_gp", "preferred", String.valueOf(!pref));
                set("west", "state", state);
                set("west", "preferred", String.valueOf(pref));
                drainUnitAttentions(east);
                drainUnitAttentions(west);
                // a group the administrator changed says so (02h: altered by implicit behaviour), once it has changed
                int defaultStatus = run == 1 ? 0 : 2;
                int westStatus = state.equals("active_optimized") ? 0 : 2;
                List<Expected> expected = List.of(
                        new Expected(1, CODES.get(other), !pref, defaultStatus, List.of(1)),
                        new Expected(2, CODES.get(state), pref, westStatus, List.of(2)));
                String what = "west " + state + (pref ? " PREF" : "") + ", default " + other;
                for (int format : new int[] {0, 1}) {
                    byte[] viaEast = check(east, format, expected, 2, what + " via east");
                    if (state.equals("offline")) { // offline answers only INQUIRY, REPORT LUNS, REQUEST SENSE
                        IscsiClient.Result r = rtpg(west, format, 255);
                        assertEquals(0x02, r.status(), () -> what + " via west: CHECK CONDITION " + r);
                        assertEquals(0x2, r.senseKey(), what + " via west: NOT READY");
                        assertEquals(0x0412, r.ascq(), what + " via west: LOGICAL UNIT NOT READY, OFFLINE");
                    } else {
                        assertArrayEquals(viaEast, check(west, format, expected, 2, what + " via west"),
                                what + ": the same through either path");
                    }
                }
            }
        }
    }

    @Test
    @Order(2)
    void setTargetPortGroupsStatusAndTransitionTimeAreKeptAcrossARestart() throws Exception {
        twoPaths();
        drainUnitAttentions(east);
        drainUnitAttentions(west);
        set("west", "transition_time", "7");
        set("west", "preferred", "false");
        set("default_tg_pt_gp", "preferred", "false");
        set("default_tg_pt_gp", "state", "active_optimized");
        drainUnitAttentions(east);
        drainUnitAttentions(west);
        // SET TARGET PORT GROUPS through east: west to active/non-optimized (header of 4 reserved bytes, then
        // ASYMMETRIC ACCESS STATE 1h, reserved, TARGET PORT GROUP 2)
        byte[] stpg = {(byte) 0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0};
        IscsiClient.Result r = east.command(0, stpg, 0, new byte[] {0, 0, 0, 0, 0x01, 0, 0, 2});
        assertTrue(r.good(), r::toString);
        IscsiClient.Result ua = MultipathAluaIT.tur(west);
        assertEquals(0x2A06, ua.ascq(), () -> "west hears ASYMMETRIC ACCESS STATE CHANGED: " + ua);
        List<Expected> expected = List.of(new Expected(1, 0x0, false, 2, List.of(1)),
                new Expected(2, 0x1, false, 1, List.of(2))); // 01h: altered by SET TARGET PORT GROUPS
        check(east, 1, expected, 7, "after STPG via east");
        check(west, 0, expected, 7, "after STPG via west");
        logout();

        assertTrue(jtarget.stop(), "clean stop");
        jtarget.start();
        twoPaths();
        drainUnitAttentions(east);
        drainUnitAttentions(west);
        check(east, 1, expected, 7, "after a restart via east");
        check(west, 1, expected, 7, "after a restart via west");
        String list = jtarget.execOk("alua:list shared");
        assertTrue(list.lines().anyMatch(l -> l.matches("west +2 +active_nonoptimized +no +both +by_stpg +7s .*")),
                list);
        set("west", "transition_time", "0");
        set("default_tg_pt_gp", "transition_time", "0");
        check(east, 1, expected, 0, "IMPLICIT TRANSITION TIME 0: not specified");
    }
}
