package org.jtarget.core.internal.pr;

import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.scsi.ScsiStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Persist through power loss (APTPL, SPC-4 5.9.6): saved atomically, restored by a new LU. */
class AptplTest {
    @TempDir
    Path home;

    static byte[] prOut(int sa, int type, long key, long saKey, boolean aptpl) {
        byte[] cdb = of(0x5F, sa, type, 0, 0, 0, 0, 0, 24, 0);
        return cdb;
    }

    static byte[] params(long key, long saKey, boolean aptpl) {
        byte[] p = new byte[24];
        for (int i = 0; i < 8; i++) {
            p[i] = (byte) (key >>> (56 - 8 * i));
            p[8 + i] = (byte) (saKey >>> (56 - 8 * i));
        }
        p[20] = (byte) (aptpl ? 1 : 0);
        return p;
    }

    static byte[] prIn(int sa) {
        return of(0x5E, sa, 0, 0, 0, 0, 0, 0, 64, 0);
    }

    ScsiEngine.Nexus ready(Harness h) {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:a");
        h.clearUa(n, 0);
        return n;
    }

    @Test
    void registrationAndReservationSurviveARestartWhileAptplIsSet() {
        Path file = home.resolve("data/pr/disk0.properties");
        Harness h = new Harness();
        LogicalUnit lu = h.addLu(0, "disk0", new MemoryBackstore(512, 64, false));
        assertNull(lu.persistReservations(file));
        ScsiEngine.Nexus n = ready(h);
        byte[] caps = data(h.in(n, 0, prIn(2), 64));
        assertEquals(0x01, caps[2] & 0x01, "PTPL_C");
        assertEquals(0x00, caps[3] & 0x01, "PTPL_A not yet");
        good(h.out(n, 0, prOut(0, 0, 0, 0x1234, true), params(0, 0x1234, true)));
        good(h.out(n, 0, prOut(1, 1, 0x1234, 0, false), params(0x1234, 0, false)));
        assertTrue(Files.isRegularFile(file));
        assertFalse(Files.exists(file.resolveSibling("disk0.properties.tmp")), "temporary file renamed");

        Harness restarted = new Harness();
        LogicalUnit again = restarted.addLu(0, "disk0", new MemoryBackstore(512, 64, false));
        assertNull(again.persistReservations(file));
        ScsiEngine.Nexus m = ready(restarted);
        byte[] keys = data(restarted.in(m, 0, prIn(0), 64));
        assertEquals(8, keys[7]);
        assertEquals(0x12, keys[14]);
        assertEquals(0x34, keys[15]);
        byte[] reservation = data(restarted.in(m, 0, prIn(1), 64));
        assertEquals(16, reservation[7]);
        assertEquals(1, reservation[21] & 0x0F, "WRITE EXCLUSIVE held again");
        assertEquals(0x01, data(restarted.in(m, 0, prIn(2), 64))[3] & 0x01, "PTPL_A");

        // a REGISTER without APTPL ends persistence: the file goes
        good(restarted.out(m, 0, prOut(0, 0, 0x1234, 0x1234, false), params(0x1234, 0x1234, false)));
        assertFalse(Files.exists(file));
    }

    @Test
    void everythingIsRestored() {
        Path file = home.resolve("data/pr/disk0.properties");
        Harness h = new Harness();
        h.addLu(0, "disk0", new MemoryBackstore(512, 64, false)).persistReservations(file);
        ScsiEngine.Nexus a = h.open("iqn.2026-11.org.test:a", "00023d000001", 1);
        ScsiEngine.Nexus b = h.open("iqn.2026-11.org.test:b", "00023d000002", 2);
        h.clearUa(a, 0);
        h.clearUa(b, 0);
        byte[] all = params(0, 0xA, true);
        all[20] |= 0x04; // ALL_TG_PT
        good(h.out(a, 0, prOut(6, 0, 0, 0, true), all));
        good(h.out(b, 0, prOut(6, 0, 0, 0, true), params(0, 0xB, true)));
        good(h.out(b, 0, prOut(1, 5, 0, 0, false), params(0xB, 0, false)));
        byte[] before = data(h.in(a, 0, of(0x5E, 3, 0, 0, 0, 0, 0, 1, 0, 0), 256));

        Harness restarted = new Harness();
        LogicalUnit again = restarted.addLu(0, "disk0", new MemoryBackstore(512, 64, false));
        assertNull(again.persistReservations(file));
        ScsiEngine.Nexus b2 = restarted.open("iqn.2026-11.org.test:b", "00023d000002", 2);
        ScsiEngine.Nexus aOnPort1 = restarted.open("iqn.2026-11.org.test:a", "00023d000001", 1);
        ScsiEngine.Nexus aOnPort2 = restarted.open("iqn.2026-11.org.test:a", "00023d000001", 2);
        ScsiEngine.Nexus aNewIsid = restarted.open("iqn.2026-11.org.test:a", "00023d000009", 1);
        for (ScsiEngine.Nexus n : new ScsiEngine.Nexus[] {b2, aOnPort1, aOnPort2, aNewIsid}) {
            restarted.clearUa(n, 0);
        }
        byte[] after = data(restarted.in(aOnPort1, 0, of(0x5E, 3, 0, 0, 0, 0, 0, 1, 0, 0), 256));
        assertArrayEquals(before, after, "READ FULL STATUS: generation, keys, holder, type, ports, TransportIDs");
        good(restarted.out(b2, 0, rw10(0x2A, 0, 1), new byte[512])); // the holder writes
        good(restarted.out(aOnPort2, 0, rw10(0x2A, 0, 1), new byte[512])); // registered on every port: RO lets it
        assertEquals(ScsiStatus.RESERVATION_CONFLICT,
                restarted.out(aNewIsid, 0, rw10(0x2A, 0, 1), new byte[512]).status(), "a new ISID is a new I_T nexus");
    }

    @Test
    void aFileOfTheFirstFormatIsStillRead() throws Exception {
        Path file = home.resolve("data/pr/old.properties");
        Files.createDirectories(file.getParent());
        String port = Harness.targetPort(1);
        Files.writeString(file, String.join("\n", "generation=2", "type=1",
                "holder=iqn.2026-11.org.test:a,i,0x000000000001|" + port, "registrations=1",
                "registration.0.key=1234", "registration.0.target=" + Harness.TARGET, "registration.0.tpg=1",
                "registration.0.relativeTargetPort=1", "registration.0.targetPort=" + port, "registration.0.protocol=5",
                "registration.0.initiator=iqn.2026-11.org.test:a",
                "registration.0.initiatorPort=iqn.2026-11.org.test:a,i,0x000000000001", ""));
        Harness h = new Harness();
        assertNull(h.addLu(0, "old", new MemoryBackstore(512, 64, false)).persistReservations(file));
        ScsiEngine.Nexus a = ready(h);
        byte[] reservation = data(h.in(a, 0, prIn(1), 64));
        assertEquals(0x12, reservation[14]);
        assertEquals(0x34, reservation[15]);
        assertEquals(1, reservation[21], "Write Exclusive, held by a");
        good(h.out(a, 0, rw10(0x2A, 0, 1), new byte[512]));
        ScsiEngine.Nexus b = h.open("iqn.2026-11.org.test:b");
        h.clearUa(b, 0);
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.out(b, 0, rw10(0x2A, 0, 1), new byte[512]).status());
    }

    @Test
    void aptplIsRefusedWhereItCannotBeKept() {
        Harness h = new Harness();
        h.addLu(0, "disk0", new MemoryBackstore(512, 64, false));
        ScsiEngine.Nexus n = ready(h);
        check(h.out(n, 0, prOut(0, 0, 0, 0x1234, true), params(0, 0x1234, true)), 0x5, 0x26, 0x00);
    }

    @Test
    void aBrokenFileIsReportedAndIgnored() throws Exception {
        Path file = home.resolve("pr/bad.properties");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "registrations=1\nregistration.0.key=zz\n");
        Harness h = new Harness();
        LogicalUnit lu = h.addLu(0, "bad", new MemoryBackstore(512, 64, false));
        String problem = lu.persistReservations(file);
        assertTrue(problem != null && problem.contains("not a valid persistent reservation file"), problem);
    }
}
