package org.jtarget.core.internal.alua;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/**
 * ALUA as initiators see it, through two nexuses reaching one LU through TPG 1 (the default group) and TPG 2
 * (group "west", id 2): REPORT TARGET PORT GROUPS in both formats (SPC-4 6.37 tables 306-309), SET TARGET PORT
 * GROUPS (6.46), the unit attentions of a change, INQUIRY's TPGS and VPD 83h designators.
 */
class TargetPortGroupsTest {
    static final HexFormat HEX = HexFormat.of();
    final Harness h = new Harness();
    final LogicalUnit lu = h.addLu(0, "disk0", new MemoryBackstore(512, 2048, false));
    final AluaGroups alua = lu.alua();
    final ScsiEngine.Nexus east;
    final ScsiEngine.Nexus west;

    TargetPortGroupsTest() {
        alua.create("west", 2);
        alua.ports(Map.of(new AluaGroups.Port(Harness.TARGET, 1), AluaGroups.DEFAULT_NAME,
                new AluaGroups.Port(Harness.TARGET, 2), "west"));
        east = h.open("iqn.2026-11.org.test:east", 1);
        west = h.open("iqn.2026-11.org.test:west", 2);
        h.clearUa(east, 0);
        h.clearUa(west, 0);
    }

    static byte[] rtpg(int format, int alloc) {
        return of(0xA3, format << 5 | 0x0A, 0, 0, 0, 0, alloc >>> 24, alloc >>> 16, alloc >>> 8, alloc, 0, 0);
    }

    static byte[] stpg(int length) {
        return of(0xA4, 0x0A, 0, 0, 0, 0, length >>> 24, length >>> 16, length >>> 8, length, 0, 0);
    }

    byte[] report(ScsiEngine.Nexus n, int format, int alloc) {
        return data(h.in(n, 0, rtpg(format, alloc), alloc));
    }

    @Test
    void lengthOnlyFormatListsEveryGroupWithItsPorts() {
        alua.setState("west", AluaState.STANDBY, false, null);
        alua.setPreferred("west", true);
        check(h.none(east, 0, new byte[6]), 0x6, 0x2A, 0x06);
        check(h.none(west, 0, new byte[6]), 0x6, 0x2A, 0x06);
        // RETURN DATA LENGTH 24; per group (table 307): PREF|state, T_SUP O_SUP U_SUP S_SUP AN_SUP AO_SUP (CFh),
        // TARGET PORT GROUP, reserved, STATUS CODE, vendor specific, TARGET PORT COUNT; then per port (table 308)
        // two obsolete bytes and the RELATIVE TARGET PORT IDENTIFIER
        String expected = "00000018"
                + "00cf0001" + "00000001" + "00000001"
                + "82cf0002" + "00020001" + "00000002";
        assertEquals(expected, HEX.formatHex(report(east, 0, 255)));
        assertEquals(expected, HEX.formatHex(report(west, 0, 255)), "the same through either port");
    }

    @Test
    void extendedHeaderCarriesFormatTypeAndImplicitTransitionTime() {
        byte[] d = report(east, 1, 255);
        // table 306: RETURN DATA LENGTH (n - 3: the extended header and the descriptors), FORMAT TYPE 001b in bits
        // 6-4, IMPLICIT TRANSITION TIME
        assertEquals("0000001c" + "10" + "02" + "0000", HEX.formatHex(Arrays.copyOf(d, 8)), "2 s by default");
        assertEquals(8 + 24, d.length);
        assertEquals("00cf000100000001", HEX.formatHex(Arrays.copyOfRange(d, 8, 16)));
    }

    @Test
    void reservedFormatIsAnInvalidFieldInTheCdb() {
        check(h.in(east, 0, rtpg(2, 255), 255), 0x5, 0x24, 0x00);
    }

    /** libiscsi's test_rtpg_alloc_length: a short buffer keeps the full RETURN DATA LENGTH and cuts the rest. */
    @Test
    void allocationLengthCutsTheDataButNotTheReturnDataLength() {
        byte[] full = report(east, 0, 255);
        for (int alloc : new int[] {4, 8, 12, 16, 20, 24}) {
            byte[] d = report(east, 0, alloc);
            assertArrayEquals(Arrays.copyOf(full, alloc), d, "allocation length " + alloc);
        }
        assertEquals(4 + 24, full.length, "full size is 4 + RETURN DATA LENGTH");
    }

    @Test
    void setTargetPortGroupsChangesStatesAndTellsTheOtherNexuses() {
        ScsiResponse r = h.out(east, 0, stpg(8), HEX.parseHex("00000000" + "02000002")); // west -> standby
        good(r);
        assertEquals(AluaState.STANDBY, alua.group("west").state());
        // STATUS CODE 01h: altered by SET TARGET PORT GROUPS
        assertEquals("02cf0002" + "00010001", HEX.formatHex(Arrays.copyOfRange(report(east, 0, 255), 16, 24)),
                "the descriptor of west");
        check(h.none(west, 0, new byte[6]), 0x6, 0x2A, 0x06); // ASYMMETRIC ACCESS STATE CHANGED
        good(h.none(east, 0, new byte[6])); // not for the nexus that sent it (SPC-4 5.15.2.6)
        check(h.none(west, 0, new byte[6]), 0x2, 0x04, 0x0B); // standby: TEST UNIT READY refused
        check(h.in(west, 0, rw10(0x28, 0, 1), 512), 0x2, 0x04, 0x0B);
        data(h.in(east, 0, rw10(0x28, 0, 1), 512)); // the other path serves
        data(h.in(west, 0, rtpg(0, 255), 255)); // standby allows REPORT TARGET PORT GROUPS
        byte[] sense = data(h.in(west, 0, of(0x03, 0, 0, 0, 18, 0), 18)); // REQUEST SENSE says why
        assertEquals("02 040b", HEX.formatHex(new byte[] {sense[2]}) + " " + HEX.formatHex(new byte[] {sense[12], sense[13]}));
        // and back, through the standby port itself
        good(h.out(west, 0, stpg(8), HEX.parseHex("00000000" + "00000002")));
        data(h.in(west, 0, rw10(0x28, 0, 1), 512));
        check(h.none(east, 0, new byte[6]), 0x6, 0x2A, 0x06);
    }

    @Test
    void setTargetPortGroupsRefusals() {
        // an unknown group, transitioning, offline (a secondary state), LBA dependent: INVALID FIELD IN PARAMETER LIST
        for (String descriptor : new String[] {"00000009", "0f000002", "0e000002", "04000002"}) {
            check(h.out(east, 0, stpg(8), HEX.parseHex("00000000" + descriptor)), 0x5, 0x26, 0x00);
        }
        // nothing changed by a list whose second descriptor is bad
        check(h.out(east, 0, stpg(12), HEX.parseHex("00000000" + "02000002" + "0f000001")), 0x5, 0x26, 0x00);
        assertEquals(AluaState.ACTIVE_OPTIMIZED, alua.group("west").state());
        // a parameter list that is not a header and whole descriptors
        check(h.out(east, 0, stpg(6), HEX.parseHex("000000000200")), 0x5, 0x1A, 0x00);
        // a group that supports only implicit transitions
        alua.setMode("west", TransitionMode.IMPLICIT);
        check(h.out(east, 0, stpg(8), HEX.parseHex("00000000" + "02000002")), 0x5, 0x26, 0x00);
        // through a port whose group supports only implicit transitions: the command is not supported (as LIO)
        check(h.out(west, 0, stpg(8), HEX.parseHex("00000000" + "01000001")), 0x5, 0x20, 0x00);
        good(h.out(east, 0, stpg(0), new byte[0])); // an empty list changes nothing
    }

    @Test
    void implicitChangeRaisesTheUnitAttentionEverywhere() {
        alua.setState(AluaGroups.DEFAULT_NAME, AluaState.ACTIVE_NONOPTIMIZED, false, null);
        check(h.none(east, 0, new byte[6]), 0x6, 0x2A, 0x06);
        check(h.none(west, 0, new byte[6]), 0x6, 0x2A, 0x06);
        // STATUS CODE 02h: altered by an implicit transition; ASYMMETRIC ACCESS STATE 1h
        assertEquals("01cf000100020001", HEX.formatHex(Arrays.copyOfRange(report(east, 0, 255), 4, 12)));
        good(h.none(east, 0, new byte[6])); // active/non-optimized serves everything
    }

    /** CommandGates' order: unit attention, then the ALUA state, then reservations. */
    @Test
    void theAccessStateIsCheckedAfterUnitAttentionsAndBeforeReservations() {
        good(h.none(east, 0, of(0x16, 0, 0, 0, 0, 0))); // RESERVE(6) through east
        org.jtarget.spi.fabric.ScsiResponse conflict = h.in(west, 0, rw10(0x28, 0, 1), 512);
        Harness.release(conflict);
        assertEquals(org.jtarget.scsi.ScsiStatus.RESERVATION_CONFLICT, conflict.status());
        alua.setState("west", AluaState.UNAVAILABLE, false, null);
        check(h.in(west, 0, rw10(0x28, 0, 1), 512), 0x6, 0x2A, 0x06); // the unit attention first
        check(h.in(west, 0, rw10(0x28, 0, 1), 512), 0x2, 0x04, 0x0C); // then the state, before the reservation
    }

    @Test
    void inquiryTpgsFollowsTheGroupOfThePort() {
        assertEquals(0x30, data(h.in(east, 0, inquiry(false, 0, 96), 96))[5] & 0x30, "both: 11b");
        alua.setMode("west", TransitionMode.IMPLICIT);
        assertEquals(0x10, data(h.in(west, 0, inquiry(false, 0, 96), 96))[5] & 0x30, "implicit: 01b");
        alua.setMode("west", TransitionMode.EXPLICIT);
        assertEquals(0x20, data(h.in(west, 0, inquiry(false, 0, 96), 96))[5] & 0x30, "explicit: 10b");
        assertEquals(0x08, data(h.in(west, 0, inquiry(false, 0, 96), 96))[5] & 0xCF, "3PC unchanged");
    }

    @Test
    void deviceIdentificationNamesThePortAndItsGroup() {
        assertEquals("relative port 2, group 2", designators(west));
        assertEquals("relative port 1, group 1", designators(east));
    }

    /** The type 4 and type 5 designators of VPD 83h (SPC-4 7.8.6.7, 7.8.6.8): target port association, PIV. */
    String designators(ScsiEngine.Nexus n) {
        byte[] d = data(h.in(n, 0, inquiry(true, 0x83, 512), 512));
        int relative = -1;
        int group = -1;
        for (int off = 4; off + 4 <= d.length; off += 4 + (d[off + 3] & 0xFF)) {
            int type = d[off + 1] & 0x0F;
            int association = (d[off + 1] >>> 4) & 0x03;
            int value = ((d[off + 6] & 0xFF) << 8) | (d[off + 7] & 0xFF);
            if (type == 4) {
                assertEquals(1, association);
                assertEquals(0x80, d[off + 1] & 0x80, "PIV");
                relative = value;
            } else if (type == 5) {
                assertEquals(1, association);
                group = value;
            }
        }
        return "relative port " + relative + ", group " + group;
    }
}
