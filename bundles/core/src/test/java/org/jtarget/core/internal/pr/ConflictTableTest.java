package org.jtarget.core.internal.pr;

import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.jtarget.core.internal.testkit.Harness.release;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/**
 * SPC-4 5.9.1 and SBC-3 4.17, table-driven: each reservation type x the holder, a registrant and an
 * unregistered I_T nexus x a command of each class, sent through the device server. "A" is allowed (any
 * status but RESERVATION CONFLICT), "C" RESERVATION CONFLICT; the three letters are holder, registered,
 * not registered.
 */
class ConflictTableTest {
    /** SPC-4 table "commands allowed in the presence of various reservations", read-class rows (MODE SENSE, READ...). */
    static final Map<Integer, String> READS = Map.of(1, "AAA", 3, "ACC", 5, "AAA", 6, "AAC", 7, "AAA", 8, "AAC");
    /** The write-class rows (WRITE, MODE SELECT, SYNCHRONIZE CACHE, PREVENT ALLOW with PREVENT 1, ...). */
    static final Map<Integer, String> WRITES = Map.of(1, "ACC", 3, "ACC", 5, "AAC", 6, "AAC", 7, "AAC", 8, "AAC");
    static final Map<Integer, String> ALLOWED = Map.of(1, "AAA", 3, "AAA", 5, "AAA", 6, "AAA", 7, "AAA", 8, "AAA");
    /** PERSISTENT RESERVE OUT RELEASE from a non-holder: registrants allowed (with no effect). */
    static final Map<Integer, String> REGISTRANTS = Map.of(1, "AAC", 3, "AAC", 5, "AAC", 6, "AAC", 7, "AAC", 8, "AAC");

    record Row(String name, byte[] cdb, boolean dataIn, byte[] dataOut, Map<Integer, String> expected) {
    }

    static List<Row> rows() {
        List<Row> r = new ArrayList<>();
        r.add(new Row("READ(10)", rw10(0x28, 0, 1), true, null, READS));
        r.add(new Row("VERIFY(10)", rw10(0x2F, 0, 1), false, null, READS));
        r.add(new Row("MODE SENSE(6)", of(0x1A, 0, 0x3F, 0, 0xFF, 0), true, null, READS));
        r.add(new Row("PRE-FETCH(10)", rw10(0x34, 0, 1), false, null, READS));
        r.add(new Row("REPORT SUPPORTED OPERATION CODES", of(0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0), true, null,
                READS));
        r.add(new Row("WRITE(10)", rw10(0x2A, 0, 1), false, new byte[512], WRITES));
        r.add(new Row("WRITE SAME(10)", rw10(0x41, 0, 1), false, new byte[512], WRITES));
        r.add(new Row("SYNCHRONIZE CACHE(10)", rw10(0x35, 0, 0), false, null, WRITES));
        r.add(new Row("PREVENT ALLOW (PREVENT 1)", of(0x1E, 0, 0, 0, 1, 0), false, null, WRITES));
        r.add(new Row("START STOP UNIT (START 0)", of(0x1B, 0, 0, 0, 0, 0), false, null, WRITES));
        r.add(new Row("MODE SELECT(6)", of(0x15, 0x10, 0, 0, 4, 0), false, new byte[4], WRITES));
        r.add(new Row("TEST UNIT READY", of(0, 0, 0, 0, 0, 0), false, null, ALLOWED));
        r.add(new Row("INQUIRY", of(0x12, 0, 0, 0, 0x60, 0), true, null, ALLOWED));
        r.add(new Row("READ CAPACITY(10)", of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), true, null, ALLOWED));
        r.add(new Row("REPORT LUNS", of(0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), true, null, ALLOWED));
        r.add(new Row("PERSISTENT RESERVE IN (READ KEYS)", of(0x5E, 0, 0, 0, 0, 0, 0, 1, 0, 0), true, null, ALLOWED));
        r.add(new Row("PREVENT ALLOW (PREVENT 0)", of(0x1E, 0, 0, 0, 0, 0), false, null, ALLOWED));
        r.add(new Row("START STOP UNIT (START 1)", of(0x1B, 0, 0, 0, 1, 0), false, null, ALLOWED));
        return r;
    }

    static byte[] params(long key, long saKey) {
        return ByteBuffer.allocate(24).putLong(key).putLong(saKey).array();
    }

    static byte[] prOut(int sa, int type) {
        return of(0x5F, sa, type, 0, 0, 0, 0, 0, 24, 0);
    }

    /** A fresh LU reserved by {@code holder} with {@code type}; {@code registered} registered too. */
    static ScsiEngine.Nexus[] setUp(Harness h, int type) {
        h.addLu(0, "disk", new MemoryBackstore(512, 64, false));
        ScsiEngine.Nexus holder = h.open("iqn.2026-11.org.test:holder");
        ScsiEngine.Nexus registered = h.open("iqn.2026-11.org.test:registered");
        ScsiEngine.Nexus stranger = h.open("iqn.2026-11.org.test:stranger");
        for (ScsiEngine.Nexus n : List.of(holder, registered, stranger)) {
            h.clearUa(n, 0);
        }
        good(h.out(holder, 0, prOut(0, 0), params(0, 1)));
        good(h.out(registered, 0, prOut(0, 0), params(0, 2)));
        good(h.out(holder, 0, prOut(1, type), params(1, 0)));
        return new ScsiEngine.Nexus[] {holder, registered, stranger};
    }

    static ScsiResponse send(Harness h, ScsiEngine.Nexus n, Row row) {
        if (row.dataOut() != null) {
            return h.out(n, 0, row.cdb(), row.dataOut());
        }
        return row.dataIn() ? h.in(n, 0, row.cdb(), 4096) : h.none(n, 0, row.cdb());
    }

    @Test
    void everyTypeEveryNexusEveryCommandClass() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (int type : new int[] {1, 3, 5, 6, 7, 8}) {
            for (Row row : rows()) {
                Harness h = new Harness();
                ScsiEngine.Nexus[] who = setUp(h, type);
                String got = "";
                for (ScsiEngine.Nexus n : who) {
                    ScsiResponse r = send(h, n, row);
                    release(r);
                    got += r.status() == ScsiStatus.RESERVATION_CONFLICT ? "C" : "A";
                    checked++;
                }
                if (!got.equals(row.expected().get(type))) {
                    wrong.add("type " + type + " " + row.name() + ": " + got + " (expected: " + row.expected().get(type) + ")");
                }
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(6 * rows().size() * 3, checked);
    }

    /**
     * Every command of the opcode table has its row (a CDB of zeros but opcode and service action: PREVENT
     * 0, START 0). A command added to the core without a decision here fails this test.
     */
    @Test
    void everyCommandOfTheCoreHasItsRow() {
        Map<String, ConflictTable.Access> expected = new java.util.TreeMap<>();
        for (String n : List.of("TEST UNIT READY", "REQUEST SENSE", "INQUIRY", "REPORT LUNS", "READ CAPACITY(10)",
                "READ CAPACITY(16)", "PREVENT ALLOW MEDIUM REMOVAL", "PERSISTENT RESERVE IN (READ KEYS)",
                "PERSISTENT RESERVE IN (READ RESERVATION)", "PERSISTENT RESERVE IN (REPORT CAPABILITIES)",
                "PERSISTENT RESERVE IN (READ FULL STATUS)", "PERSISTENT RESERVE OUT (REGISTER)",
                "PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)", "REPORT TARGET PORT GROUPS")) {
            expected.put(n, ConflictTable.Access.ALLOWED);
        }
        for (String n : List.of("READ(6)", "READ(10)", "READ(12)", "READ(16)", "VERIFY(10)", "VERIFY(12)",
                "VERIFY(16)", "PRE-FETCH(10)", "PRE-FETCH(16)", "READ DEFECT DATA(10)", "READ DEFECT DATA(12)",
                "GET LBA STATUS", "MODE SENSE(6)", "MODE SENSE(10)", "REPORT SUPPORTED OPERATION CODES",
                "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS")) {
            expected.put(n, ConflictTable.Access.READ);
        }
        for (String n : List.of("WRITE(6)", "WRITE(10)", "WRITE(12)", "WRITE(16)", "WRITE AND VERIFY(10)",
                "WRITE AND VERIFY(12)", "WRITE AND VERIFY(16)", "WRITE SAME(10)", "WRITE SAME(16)", "UNMAP",
                "COMPARE AND WRITE", "ORWRITE(16)", "WRITE ATOMIC(16)", "SYNCHRONIZE CACHE(10)",
                "SYNCHRONIZE CACHE(16)", "START STOP UNIT", "MODE SELECT(6)", "MODE SELECT(10)",
                "EXTENDED COPY (LID1)", "SET TARGET PORT GROUPS")) {
            expected.put(n, ConflictTable.Access.WRITE);
        }
        for (String n : List.of("RESERVE(6)", "RELEASE(6)", "RESERVE(10)", "RELEASE(10)")) {
            expected.put(n, ConflictTable.Access.SPC2);
        }
        for (String n : List.of("RESERVE", "REGISTER AND MOVE")) {
            expected.put("PERSISTENT RESERVE OUT (" + n + ")", ConflictTable.Access.HOLDER);
        }
        for (String n : List.of("RELEASE", "CLEAR", "PREEMPT", "PREEMPT AND ABORT")) {
            expected.put("PERSISTENT RESERVE OUT (" + n + ")", ConflictTable.Access.REGISTRANT);
        }
        Map<String, ConflictTable.Access> got = new java.util.TreeMap<>();
        for (org.jtarget.core.internal.cmd.OpcodeDescriptor d : new org.jtarget.core.internal.scsi.DeviceServer().opcodeTable().all()) {
            byte[] cdb = new byte[d.cdbLength()];
            cdb[0] = (byte) d.opcode();
            if (d.serviceAction() >= 0) {
                cdb[1] = (byte) d.serviceAction();
            }
            ConflictTable.Access a = ConflictTable.classify(new org.jtarget.core.internal.cmd.Cdb(cdb));
            String name = d.name();
            if (name.startsWith("SANITIZE")) {
                assertEquals(ConflictTable.Access.WRITE, a, name); // SBC-3: every SANITIZE service action
            } else if (name.startsWith("RECEIVE COPY RESULTS")) {
                assertEquals(ConflictTable.Access.READ, a, name); // SPC-4: reads like MODE SENSE
            } else {
                got.put(name, a);
            }
        }
        assertEquals(expected, got);
    }

    @Test
    void reservationServiceActionsFromNonHolders() {
        for (int type : new int[] {1, 3, 5, 6}) { // not all-registrants: there every registrant is a holder
            Harness h = new Harness();
            ScsiEngine.Nexus[] who = setUp(h, type);
            // RESERVE from a registrant that does not hold it: conflict (SPC-4 5.9.9)
            assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.out(who[1], 0, prOut(1, type), params(2, 0)).status());
            // RELEASE from a registered non-holder: GOOD, nothing released (SPC-4 5.9.11.2)
            good(h.out(who[1], 0, prOut(2, type), params(2, 0)));
            assertEquals(16, ByteBuffer.wrap(Harness.data(h.in(who[0], 0, of(0x5E, 1, 0, 0, 0, 0, 0, 0, 64, 0), 64)))
                    .getInt(4), "type " + type + " still reserved");
            // REGISTER from a stranger is always allowed
            good(h.out(who[2], 0, prOut(0, 0), params(0, 3)));
        }
    }

    @Test
    void spc2ReserveAndReleaseConflictWhileAnyRegistrationExists() {
        Harness h = new Harness();
        h.addLu(0, "disk", new MemoryBackstore(512, 64, false));
        ScsiEngine.Nexus a = h.open("iqn.2026-11.org.test:a");
        h.clearUa(a, 0);
        good(h.none(a, 0, of(0x16, 0, 0, 0, 0, 0))); // RESERVE(6) without registrations
        good(h.none(a, 0, of(0x17, 0, 0, 0, 0, 0))); // RELEASE(6)
        good(h.out(a, 0, prOut(0, 0), params(0, 9)));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.none(a, 0, of(0x16, 0, 0, 0, 0, 0)).status());
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.none(a, 0, of(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0)).status());
        assertNotEquals(ScsiStatus.RESERVATION_CONFLICT, h.none(a, 0, of(0, 0, 0, 0, 0, 0)).status());
    }
}
