package org.jtarget.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jtarget.api.ReservationInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code pr:show} and {@code pr:clear} as a user types them. */
class PrCommandsTest {
    FakeTargetService service;
    GogoShell shell;

    @BeforeEach
    void start() {
        service = new FakeTargetService();
        shell = new GogoShell(service);
        assertNull(shell.run("backstore:create disk1 memory size=64M").failure());
    }

    @AfterEach
    void stop() {
        shell.close();
    }

    String ok(String line) {
        GogoShell.Result r = shell.run(line);
        assertNull(r.failure(), () -> line + " failed: " + r.failure());
        return r.out();
    }

    @Test
    void showListsRegistrationsHolderTypeGenerationAndAptpl() {
        service.reservations.put("disk1", new ReservationInfo("disk1", 7, 5, "Write Exclusive - Registrants Only", true,
                List.of(new ReservationInfo.Registration("0x0000000000000abc", "iqn.2026-11.org.test:a,i,0x23d000000001",
                                "iqn.2026-11.org.jtarget:d,t,0x0001", 1, "4500001c69716e", true),
                        new ReservationInfo.Registration("0x0000000000000def", "iqn.2026-11.org.test:b",
                                "iqn.2026-11.org.jtarget:d (all target ports)", 0, "0500001869716e", false))));
        String out = ok("pr:show disk1");
        assertTrue(out.contains("Generation:   7\n"), out);
        assertTrue(out.contains("APTPL:        yes"), out);
        assertTrue(out.contains("Reservation:  Write Exclusive - Registrants Only (type 5)"), out);
        String[] lines = out.split("\n");
        String holder = java.util.Arrays.stream(lines).filter(l -> l.startsWith("0x0000000000000abc")).findFirst().orElseThrow();
        assertEquals(List.of("0x0000000000000abc", "yes", "iqn.2026-11.org.test:a,i,0x23d000000001",
                "iqn.2026-11.org.jtarget:d,t,0x0001", "1", "4500001c69716e"), List.of(holder.split(" +")));
        String other = java.util.Arrays.stream(lines).filter(l -> l.startsWith("0x0000000000000def")).findFirst().orElseThrow();
        assertEquals(6, other.split(" +").length, "one word per column: " + other);
    }

    @Test
    void showWithoutRegistrationsSaysSo() {
        String out = ok("pr:show disk1");
        assertTrue(out.contains("Reservation:  none"), out);
        assertTrue(out.contains("Registrations: none"), out);
    }

    @Test
    void clearSaysWhatItRemoved() {
        service.reservations.put("disk1", new ReservationInfo("disk1", 2, 1, "Write Exclusive", false,
                List.of(new ReservationInfo.Registration("0x0000000000000001", "iqn.x,i,0x000000000001", "iqn.t,t,0x0001",
                        1, "", true))));
        assertEquals("Cleared 1 registration(s) and the Write Exclusive reservation of disk1\n", ok("pr:clear disk1"));
        assertEquals(0, service.reservations("disk1").registrations().size());
    }

    @Test
    void unknownBackstoreIsRefused() {
        GogoShell.Result r = shell.run("pr:show nosuch");
        assertNotNull(r.failure());
        assertEquals("no such backstore: nosuch", r.failure().getMessage());
    }
}
