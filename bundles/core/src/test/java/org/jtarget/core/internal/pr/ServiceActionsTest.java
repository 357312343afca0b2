package org.jtarget.core.internal.pr;

import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.core.internal.testkit.TestTask;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/**
 * PERSISTENT RESERVE OUT service actions beyond the basics (SPC-4 5.9.7 - 5.9.11, 6.16): SPEC_I_PT,
 * ALL_TG_PT, REGISTER AND MOVE, PREEMPT AND ABORT, the unit attentions of each change, READ FULL STATUS.
 */
class ServiceActionsTest {
    static final String A = "iqn.2026-11.org.test:a", B = "iqn.2026-11.org.test:b", C = "iqn.2026-11.org.test:c";
    final MemoryBackstore disk = new MemoryBackstore(512, 64, false);
    final Harness h = new Harness();
    final ScsiEngine.Nexus a;
    final ScsiEngine.Nexus b;

    ServiceActionsTest() {
        h.addLu(0, "disk", disk);
        a = ready(A, "000000000001", 1);
        b = ready(B, "000000000002", 1);
    }

    ScsiEngine.Nexus ready(String initiator, String isid, int tpg) {
        ScsiEngine.Nexus n = h.open(initiator, isid, tpg);
        h.clearUa(n, 0);
        return n;
    }

    static byte[] prOut(int sa, int type, int length) {
        return of(0x5F, sa, type, 0, 0, length >>> 24, length >>> 16, length >>> 8, length, 0);
    }

    /** The basic parameter list (SPC-4 6.16.3) with byte 20's flags, then the SPEC_I_PT TransportIDs. */
    static byte[] params(long key, long saKey, int flags, byte[]... tids) {
        int tidLength = 0;
        for (byte[] t : tids) {
            tidLength += t.length;
        }
        ByteBuffer p = ByteBuffer.allocate(24 + (tids.length > 0 ? 4 + tidLength : 0));
        p.putLong(key).putLong(saKey).putInt(0).put((byte) flags).put(new byte[3]);
        if (tids.length > 0) {
            p.putInt(tidLength);
            for (byte[] t : tids) {
                p.put(t);
            }
        }
        return p.array();
    }

    /** The REGISTER AND MOVE parameter list (SPC-4 6.16.4). */
    static byte[] moveParams(long key, long saKey, boolean unreg, int rtpi, byte[] tid) {
        return ByteBuffer.allocate(24 + tid.length).putLong(key).putLong(saKey).put((byte) 0)
                .put((byte) (unreg ? 0x02 : 0)).putShort((short) rtpi).putInt(tid.length).put(tid).array();
    }

    ScsiResponse out(ScsiEngine.Nexus n, int sa, int type, byte[] params) {
        return h.out(n, 0, prOut(sa, type, params.length), params);
    }

    ScsiResponse register(ScsiEngine.Nexus n, long saKey) {
        return out(n, PersistentReservations.REGISTER_AND_IGNORE, 0, params(0, saKey, 0));
    }

    ByteBuffer in(ScsiEngine.Nexus n, int sa) {
        return ByteBuffer.wrap(data(h.in(n, 0, of(0x5E, sa, 0, 0, 0, 0, 0, 0x10, 0, 0), 4096)));
    }

    List<Long> keys() {
        ByteBuffer k = in(a, 0);
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < k.getInt(4) / 8; i++) {
            out.add(k.getLong(8 + 8 * i));
        }
        return out;
    }

    /** The sense of the next command (a pending unit attention), or GOOD. */
    String nextUa(ScsiEngine.Nexus n) {
        ScsiResponse r = h.none(n, 0, new byte[6]);
        if (r.status() == ScsiStatus.GOOD) {
            return "none";
        }
        byte[] s = r.sense();
        return String.format("%x/%02x/%02x", s[2] & 0x0F, s[12] & 0xFF, s[13] & 0xFF);
    }

    @Test
    void specIptRegistersTheNamedPortsToo() {
        byte[] portOfB = TransportIds.encode(B, "000000000002");
        byte[] anyPortOfC = TransportIds.encode(C, null);
        good(out(a, 0, 0, params(0, 0x77, 0x08, portOfB, anyPortOfC)));
        assertEquals(List.of(0x77L, 0x77L, 0x77L), keys());
        // b was registered by a's command: it may reserve with that key
        good(out(b, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0x77, 0, 0)));
        // format 00b: every port of c, whatever its ISID
        ScsiEngine.Nexus c = ready(C, "0000000000ff", 1);
        good(out(c, 0, 0, params(0x77, 0x78, 0)));
        assertTrue(keys().contains(0x78L));
    }

    @Test
    void specIptIsAllOrNothing() {
        byte[] good = TransportIds.encode(B, "000000000002");
        byte[] bad = TransportIds.encode(C, null);
        bad[0] = 0x00; // Fibre Channel
        check(out(a, 0, 0, params(0, 0x77, 0x08, good, bad)), 0x5, 0x26, 0x00);
        assertEquals(List.of(), keys());
        // a named I_T nexus that is registered already: RESERVATION CONFLICT, nothing added
        ScsiEngine.Nexus c = ready(C, "000000000003", 1);
        good(register(c, 0x33));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT,
                out(a, 0, 0, params(0, 0x77, 0x08, good, TransportIds.encode(C, "000000000003"))).status());
        assertEquals(List.of(0x33L), keys());
    }

    @Test
    void specIptFieldsAndLengthsAreChecked() {
        byte[] tid = TransportIds.encode(B, "000000000002");
        check(out(a, PersistentReservations.REGISTER_AND_IGNORE, 0, params(0, 0x77, 0x08, tid)), 0x5, 0x26, 0x00);
        byte[] p = params(0, 0x77, 0x08, tid);
        p[27]++; // TRANSPORTID PARAMETER DATA LENGTH beyond the list
        check(out(a, 0, 0, p), 0x5, 0x1A, 0x00);
        good(register(a, 0x11));
        check(out(a, 0, 0, params(0x11, 0x77, 0x08, tid)), 0x5, 0x26, 0x00); // only from an unregistered nexus
    }

    @Test
    void allTargetPortsRegistersEveryPortOfTheTarget() {
        good(out(a, 0, 0, params(0, 0x55, 0x04)));
        ScsiEngine.Nexus viaPort2 = ready(A, "000000000001", 2);
        good(out(viaPort2, 1, PersistentReservations.EXCLUSIVE_ACCESS, params(0x55, 0, 0)));
        good(h.in(a, 0, rw10(0x28, 0, 1), 512)); // both paths hold the reservation
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.in(b, 0, rw10(0x28, 0, 1), 512).status());
        ByteBuffer full = in(b, 3);
        assertEquals(24 + full.getInt(8 + 20), full.getInt(4), "one descriptor");
        assertEquals(0x03, full.get(20), "ALL_TG_PT and R_HOLDER");
        assertEquals(0, full.getShort(26), "RELATIVE TARGET PORT IDENTIFIER not meaningful");
    }

    @Test
    void readFullStatusCarriesTransportIdsPortsAndTheHolder() {
        good(register(a, 0xA));
        ScsiEngine.Nexus bViaPort2 = ready(B, "000000000002", 2);
        good(register(bViaPort2, 0xB));
        good(out(bViaPort2, 1, PersistentReservations.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, params(0xB, 0, 0)));
        ByteBuffer f = in(a, 3);
        int generation = f.getInt(0);
        assertEquals(2, generation, "two registrations, RESERVE does not count");
        int off = 8;
        List<String> seen = new ArrayList<>();
        while (off < 8 + f.getInt(4)) {
            long key = f.getLong(off);
            int flags = f.get(off + 12);
            int type = f.get(off + 13);
            int rtpi = f.getShort(off + 18);
            int len = f.getInt(off + 20);
            byte[] tid = new byte[len];
            f.get(off + 24, tid);
            assertEquals(0x45, tid[0], "format 01b, iSCSI");
            String name = new String(tid, 4, len - 4, StandardCharsets.UTF_8).replace("\0", "");
            seen.add(Long.toHexString(key) + " " + flags + " " + type + " " + rtpi + " " + name);
            off += 24 + len;
        }
        assertEquals(List.of("a 0 0 1 " + A + ",i,0x000000000001", "b 1 5 2 " + B + ",i,0x000000000002"), seen);
    }

    @Test
    void registerAndMoveHandsTheReservationToAnotherNexus() {
        good(register(a, 0xA));
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        byte[] toB = TransportIds.encode(B, "000000000002");
        good(out(a, 7, PersistentReservations.EXCLUSIVE_ACCESS, moveParams(0xA, 0xB, true, 1, toB)));
        ByteBuffer r = in(a, 1);
        assertEquals(0xB, r.getLong(8), "b holds it now");
        assertEquals(PersistentReservations.EXCLUSIVE_ACCESS, r.get(21), "with the CDB's type");
        assertEquals(List.of(0xBL), keys(), "UNREG: a is no longer registered");
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.in(a, 0, rw10(0x28, 0, 1), 512).status());
        good(h.out(b, 0, rw10(0x2A, 0, 1), new byte[512]));
        assertEquals(2, in(b, 0).getInt(0), "PRGENERATION: the REGISTER and the REGISTER AND MOVE");
    }

    @Test
    void registerAndMoveRules() {
        good(register(a, 0xA));
        good(register(b, 0xB));
        byte[] toB = TransportIds.encode(B, "000000000002");
        // no reservation, or not its holder: conflict
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(a, 7, 1, moveParams(0xA, 0xB, false, 1, toB)).status());
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT,
                out(b, 7, 1, moveParams(0xB, 0xC, false, 1, TransportIds.encode(C, "000000000003"))).status());
        // service action key 0, a target port that does not exist, format 00b, the issuing nexus itself
        check(out(a, 7, 1, moveParams(0xA, 0, false, 1, toB)), 0x5, 0x26, 0x00);
        check(out(a, 7, 1, moveParams(0xA, 0xB, false, 9, toB)), 0x5, 0x26, 0x00);
        check(out(a, 7, 1, moveParams(0xA, 0xB, false, 1, TransportIds.encode(B, null))), 0x5, 0x26, 0x00);
        check(out(a, 7, 1, moveParams(0xA, 0xB, false, 1, TransportIds.encode(A, "000000000001"))), 0x5, 0x26, 0x00);
        // without UNREG the mover stays registered; the destination's key is replaced
        good(out(a, 7, 1, moveParams(0xA, 0xBB, false, 1, toB)));
        assertEquals(List.of(0xAL, 0xBBL), keys());
        assertEquals(0xBB, in(a, 1).getLong(8));
        // all-registrants reservations cannot move
        good(out(b, 2, 1, params(0xBB, 0, 0)));
        good(out(b, 1, PersistentReservations.WRITE_EXCLUSIVE_ALL_REGISTRANTS, params(0xBB, 0, 0)));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(b, 7, 7,
                moveParams(0xBB, 0xA, false, 1, TransportIds.encode(A, "000000000001"))).status());
    }

    @Test
    void preemptAndAbortAbortsThePreemptedTasks() throws Exception {
        good(register(a, 0xA));
        good(register(b, 0xB));
        good(out(b, 1, PersistentReservations.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, params(0xB, 0, 0)));
        disk.gate = new CompletableFuture<>();
        TestTask stuck = new TestTask(0, rw10(0x28, 0, 1), h.nextTag(), TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        b.submit(stuck);
        byte[] p = params(0xA, 0xB, 0);
        TestTask preempt = new TestTask(0, prOut(5, PersistentReservations.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, 24),
                h.nextTag(), TaskAttribute.SIMPLE, DataDirection.WRITE, 24, p);
        a.submit(preempt);
        assertFalse(preempt.response.isDone(), "PREEMPT AND ABORT waits for the aborted READ to end");
        disk.gate.complete(null);
        stuck.abortedFuture.get(5, TimeUnit.SECONDS);
        assertFalse(stuck.response.isDone(), "an aborted task gets no status");
        good(preempt.response.get(5, TimeUnit.SECONDS));
        assertEquals(0xA, in(a, 1).getLong(8), "a holds the reservation");
        assertEquals(List.of(0xAL), keys());
        assertEquals("6/2a/05", nextUa(b), "REGISTRATIONS PREEMPTED");
        assertEquals("6/2f/00", nextUa(b), "COMMANDS CLEARED BY ANOTHER INITIATOR (TAS 0)");
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.out(b, 0, rw10(0x2A, 0, 1), new byte[512]).status());
        assertEquals("none", nextUa(a));
    }

    @Test
    void unitAttentionsOfEachChange() {
        ScsiEngine.Nexus c = ready(C, "000000000003", 1);
        good(register(a, 0xA));
        good(register(b, 0xB));
        good(register(c, 0xC));
        // RELEASE of a registrants-only reservation: RESERVATIONS RELEASED to the other registrants
        good(out(a, 1, PersistentReservations.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, params(0xA, 0, 0)));
        good(out(a, 2, PersistentReservations.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, params(0xA, 0, 0)));
        assertEquals("6/2a/04", nextUa(b));
        assertEquals("6/2a/04", nextUa(c));
        assertEquals("none", nextUa(a));
        // RELEASE of Write Exclusive: nobody hears of it
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        good(out(a, 2, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        assertEquals("none", nextUa(b));
        // PREEMPT of the holder with a new type: REGISTRATIONS PREEMPTED to it, RESERVATIONS RELEASED to the rest
        good(out(b, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0xB, 0, 0)));
        good(out(a, 4, PersistentReservations.EXCLUSIVE_ACCESS, params(0xA, 0xB, 0)));
        assertEquals("6/2a/05", nextUa(b));
        assertEquals("6/2a/04", nextUa(c));
        // the holder unregistering from a registrants-only reservation releases it
        good(out(a, 4, PersistentReservations.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, params(0xA, 0xA, 0)));
        assertEquals("6/2a/04", nextUa(c), "type changed by preempting itself");
        good(out(a, 0, 0, params(0xA, 0, 0)));
        assertEquals("6/2a/04", nextUa(c));
        assertEquals(0, in(c, 1).getInt(4), "nothing reserved");
        // CLEAR: RESERVATIONS PREEMPTED to every other registrant
        good(register(a, 0xA));
        good(out(c, 3, 0, params(0xC, 0, 0)));
        assertEquals("6/2a/03", nextUa(a));
        assertEquals("none", nextUa(c));
        assertEquals(List.of(), keys());
    }

    @Test
    void preemptRules() {
        good(register(a, 0xA));
        good(register(b, 0xB));
        check(out(a, 4, 1, params(0xA, 0, 0)), 0x5, 0x26, 0x00); // key 0 without an all-registrants reservation
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(a, 4, 1, params(0xA, 0x99, 0)).status()); // nobody has it
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(a, 4, 1, params(0x99, 0xB, 0)).status()); // wrong own key
        // no reservation: preempting one's own key removes one's own registration as well (SPC-4 5.9.11.4.4)
        ScsiEngine.Nexus c = ready(C, "000000000003", 1);
        good(register(c, 0xC));
        good(out(c, 4, 1, params(0xC, 0xC, 0)));
        assertEquals(List.of(0xAL, 0xBL), keys());
        // all registrants: SA key 0 removes every other registration and takes the reservation
        good(out(b, 1, PersistentReservations.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, params(0xB, 0, 0)));
        good(out(a, 4, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        assertEquals(List.of(0xAL), keys());
        ByteBuffer r = in(a, 1);
        assertEquals(0xA, r.getLong(8));
        assertEquals(PersistentReservations.WRITE_EXCLUSIVE, r.get(21));
        assertEquals("6/2a/05", nextUa(b));
    }

    @Test
    void administratorClearTellsEveryRegistrant() {
        good(register(a, 0xA));
        good(register(b, 0xB));
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, params(0xA, 0, 0)));
        h.luns.get(0).clearReservations();
        assertEquals("6/2a/03", nextUa(a));
        assertEquals("6/2a/03", nextUa(b));
        assertEquals(List.of(), keys());
        assertEquals(0, h.luns.get(0).reservations().registrations().size());
    }
}
