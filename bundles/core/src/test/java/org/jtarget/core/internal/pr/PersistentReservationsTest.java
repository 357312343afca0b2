package org.jtarget.core.internal.pr;

import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/** PERSISTENT RESERVE IN/OUT through two nexuses (SPC-4 5.9). */
class PersistentReservationsTest {
    final Harness h = new Harness();
    final ScsiEngine.Nexus a;
    final ScsiEngine.Nexus b;

    PersistentReservationsTest() {
        h.addLu(0, "disk", new MemoryBackstore(512, 64, false));
        a = h.open("iqn.2026-11.org.test:a");
        b = h.open("iqn.2026-11.org.test:b");
        h.clearUa(a, 0);
        h.clearUa(b, 0);
    }

    static byte[] prOut(int sa, int type) {
        return of(0x5F, sa, type, 0, 0, 0, 0, 0, 24, 0);
    }

    static byte[] params(long key, long saKey) {
        return ByteBuffer.allocate(24).putLong(key).putLong(saKey).array();
    }

    ScsiResponse out(ScsiEngine.Nexus n, int sa, int type, long key, long saKey) {
        return h.out(n, 0, prOut(sa, type), params(key, saKey));
    }

    byte[] in(ScsiEngine.Nexus n, int sa) {
        return data(h.in(n, 0, of(0x5E, sa, 0, 0, 0, 0, 0, 0x01, 0x00, 0), 256));
    }

    @Test
    void registerReadKeysAndWrongKeyConflicts() {
        good(out(a, 0, 0, 0, 0xAAL));
        good(out(b, 6, 0, 0, 0xBBL)); // REGISTER AND IGNORE EXISTING KEY
        ByteBuffer keys = ByteBuffer.wrap(in(a, 0));
        assertEquals(2, keys.getInt(0), "PRGENERATION");
        assertEquals(16, keys.getInt(4));
        assertEquals(0xAAL, keys.getLong(8));
        assertEquals(0xBBL, keys.getLong(16));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(a, 0, 0, 0x99, 0xCC).status());
        good(out(a, 0, 0, 0xAA, 0)); // unregister
        assertEquals(8, ByteBuffer.wrap(in(a, 0)).getInt(4));
    }

    @Test
    void exclusiveAccessBlocksOthersUntilReleased() {
        good(out(a, 0, 0, 0, 1));
        good(out(b, 0, 0, 0, 2));
        good(out(a, 1, PersistentReservations.EXCLUSIVE_ACCESS, 1, 0));
        ByteBuffer r = ByteBuffer.wrap(in(b, 1));
        assertEquals(16, r.getInt(4));
        assertEquals(1, r.getLong(8));
        assertEquals(3, r.get(21));
        good(h.in(a, 0, rw10(0x28, 0, 1), 512));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.in(b, 0, rw10(0x28, 0, 1), 512).status());
        good(h.none(b, 0, new byte[6])); // TEST UNIT READY is always allowed
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, out(b, 1, 3, 2, 0).status());
        check(out(a, 2, PersistentReservations.WRITE_EXCLUSIVE, 1, 0), 0x5, 0x26, 0x04);
        good(out(a, 2, PersistentReservations.EXCLUSIVE_ACCESS, 1, 0));
        good(h.in(b, 0, rw10(0x28, 0, 1), 512));
    }

    @Test
    void writeExclusiveLetsOthersRead() {
        good(out(a, 0, 0, 0, 1));
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, 1, 0));
        good(h.in(b, 0, rw10(0x28, 0, 1), 512));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.out(b, 0, rw10(0x2A, 0, 1), new byte[512]).status());
    }

    @Test
    void allRegistrantsReservationOutlivesTheReserver() {
        good(out(a, 0, 0, 0, 1));
        good(out(b, 0, 0, 0, 2));
        good(out(a, 1, PersistentReservations.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, 1, 0));
        assertEquals(0, ByteBuffer.wrap(in(a, 1)).getLong(8), "all registrants: key 0");
        good(h.out(b, 0, rw10(0x2A, 0, 1), new byte[512]));
        good(out(a, 0, 0, 1, 0));
        assertEquals(16, ByteBuffer.wrap(in(a, 1)).getInt(4), "still reserved");
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.in(a, 0, rw10(0x28, 0, 1), 512).status());
        good(out(b, 2, PersistentReservations.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, 2, 0));
        assertEquals(0, ByteBuffer.wrap(in(a, 1)).getInt(4));
    }

    @Test
    void preemptRemovesTheHolderAndRaisesUnitAttention() {
        good(out(a, 0, 0, 0, 1));
        good(out(b, 0, 0, 0, 2));
        good(out(a, 1, PersistentReservations.WRITE_EXCLUSIVE, 1, 0));
        good(out(b, 4, PersistentReservations.EXCLUSIVE_ACCESS, 2, 1));
        ByteBuffer r = ByteBuffer.wrap(in(b, 1));
        assertEquals(2, r.getLong(8));
        assertEquals(3, r.get(21));
        check(h.none(a, 0, new byte[6]), 0x6, 0x2A, 0x05);
        good(out(b, 3, 0, 2, 0)); // CLEAR
        assertEquals(0, ByteBuffer.wrap(in(a, 0)).getInt(4));
    }

    @Test
    void reportCapabilitiesAndBadParameterLists() {
        byte[] caps = in(a, 2);
        assertEquals(8, caps[1]);
        assertEquals(0x0C, caps[2] & 0xFF, "SIP_C, ATP_C; no CRH, no PTPL_C without a file");
        assertEquals(0x90, caps[3] & 0xFF, "TMV, ALLOW COMMANDS 001b");
        assertEquals(0xEA, caps[4] & 0xFF);
        assertEquals(0x01, caps[5]);
        check(h.out(a, 0, of(0x5F, 0, 0, 0, 0, 0, 0, 0, 20, 0), new byte[20]), 0x5, 0x1A, 0x00);
        byte[] aptpl = params(0, 5);
        aptpl[20] = 1;
        check(h.out(a, 0, prOut(0, 0), aptpl), 0x5, 0x26, 0x00);
        check(h.in(a, 0, of(0x5E, 4, 0, 0, 0, 0, 0, 1, 0, 0), 256), 0x5, 0x24, 0x00);
    }

    @Test
    void spc2ReserveConflictsWhileRegistered() {
        good(out(a, 0, 0, 0, 1));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.none(a, 0, of(0x16, 0, 0, 0, 0, 0)).status());
    }
}
