package org.jtarget.core.internal.sbc;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Cdbs.rw16;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LuAttributes;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.scsi.TaskManagementFunction;
import org.junit.jupiter.api.Test;

/** The read_only and removable LU attributes: write protection, RMB, PREVENT ALLOW, eject and load. */
class MediumAttributesTest {
    static final int DATA_PROTECT = 0x7, ILLEGAL_REQUEST = 0x5, NOT_READY = 0x2, UNIT_ATTENTION = 0x6;
    final Harness h = new Harness();
    final MemoryBackstore disk = new MemoryBackstore(512, 2048, true);
    final LogicalUnit lu = h.addLu(0, "disk0", disk);

    ScsiEngine.Nexus ready(String name) {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:" + name);
        h.clearUa(n, 0);
        return n;
    }

    static byte[] startStop(boolean loej, boolean start) {
        return of(0x1B, 0, 0, 0, (loej ? 2 : 0) | (start ? 1 : 0), 0);
    }

    static byte[] preventAllow(int prevent) {
        return of(0x1E, 0, 0, 0, prevent, 0);
    }

    @Test
    void readOnlyRefusesEveryWriteWithWriteProtectedAndSetsWp() {
        ScsiEngine.Nexus n = ready("a");
        lu.attributes(new LuAttributes(true, false));
        check(h.none(n, 0, new byte[6]), UNIT_ATTENTION, 0x2A, 0x01); // MODE PARAMETERS CHANGED
        check(h.out(n, 0, rw10(0x2A, 0, 1), new byte[512]), DATA_PROTECT, 0x27, 0x00);
        check(h.out(n, 0, rw16(0x8A, 0, 0, 1), new byte[512]), DATA_PROTECT, 0x27, 0x00);
        check(h.out(n, 0, rw16(0x93, 0, 0, 4), new byte[512]), DATA_PROTECT, 0x27, 0x00); // WRITE SAME(16)
        byte[] unmap = new byte[24];
        unmap[1] = 22;
        unmap[3] = 16;
        unmap[19] = 1;
        check(h.out(n, 0, of(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), unmap), DATA_PROTECT, 0x27, 0x00);
        check(h.out(n, 0, rw16(0x89, 0, 0, 1), new byte[1024]), DATA_PROTECT, 0x27, 0x00); // COMPARE AND WRITE
        data(h.in(n, 0, rw10(0x28, 0, 1), 512)); // reads still work
        byte[] mode = data(h.in(n, 0, of(0x1A, 0x08, 0x3F, 0, 255, 0), 255));
        assertEquals(0x80, mode[2] & 0x80, "WP in the MODE SENSE(6) header");
        lu.attributes(LuAttributes.DEFAULT);
        check(h.none(n, 0, new byte[6]), UNIT_ATTENTION, 0x2A, 0x01);
        good(h.out(n, 0, rw10(0x2A, 0, 1), new byte[512]));
        mode = data(h.in(n, 0, of(0x1A, 0x08, 0x3F, 0, 255, 0), 255));
        assertEquals(0, mode[2] & 0x80);
    }

    @Test
    void removableSetsRmbAfterInquiryDataHasChanged() {
        ScsiEngine.Nexus n = ready("a");
        assertEquals(0, data(h.in(n, 0, inquiry(false, 0, 96), 96))[1] & 0x80);
        lu.attributes(new LuAttributes(false, true));
        check(h.none(n, 0, new byte[6]), UNIT_ATTENTION, 0x3F, 0x03);
        assertEquals(0x80, data(h.in(n, 0, inquiry(false, 0, 96), 96))[1] & 0x80);
    }

    @Test
    void physicalBlockSizeIsReportedAsExponentAndGranularity() {
        ScsiEngine.Nexus n = ready("a");
        byte[] rc16 = of(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
        assertEquals(0, data(h.in(n, 0, rc16, 32))[13] & 0x0F);
        lu.attributes(new LuAttributes(false, false, 4096));
        check(h.in(n, 0, rc16, 32), UNIT_ATTENTION, 0x2A, 0x09); // CAPACITY DATA HAS CHANGED
        assertEquals(3, data(h.in(n, 0, rc16, 32))[13] & 0x0F, "4 KiB physical blocks of 512-byte LBAs");
        byte[] b0 = data(h.in(n, 0, inquiry(true, 0xB0, 64), 64));
        assertEquals(8, ((b0[6] & 0xFF) << 8) | (b0[7] & 0xFF), "OPTIMAL TRANSFER LENGTH GRANULARITY");
        assertEquals(8, b0[31] & 0xFF, "OPTIMAL UNMAP GRANULARITY");
        lu.attributes(new LuAttributes(false, false, 512)); // not larger than a logical block
        h.clearUa(n, 0);
        assertEquals(0, data(h.in(n, 0, rc16, 32))[13] & 0x0F);
    }

    @Test
    void fixedMediumRefusesLoejAndPrevent() {
        ScsiEngine.Nexus n = ready("a");
        check(h.none(n, 0, startStop(true, false)), ILLEGAL_REQUEST, 0x24, 0x00);
        check(h.none(n, 0, preventAllow(1)), ILLEGAL_REQUEST, 0x24, 0x00);
        good(h.none(n, 0, preventAllow(0)));
        good(h.none(n, 0, startStop(false, true)));
    }

    @Test
    void preventedMediumCannotBeEjectedOrLoadedUntilAllowed() {
        lu.attributes(new LuAttributes(false, true));
        ScsiEngine.Nexus n = ready("a");
        good(h.none(n, 0, preventAllow(1)));
        check(h.none(n, 0, startStop(true, false)), ILLEGAL_REQUEST, 0x53, 0x02);
        good(h.none(n, 0, new byte[6]));
        good(h.none(n, 0, preventAllow(0)));
        good(h.none(n, 0, startStop(true, false)));
        check(h.none(n, 0, new byte[6]), NOT_READY, 0x3A, 0x00);
        check(h.in(n, 0, rw10(0x28, 0, 1), 512), NOT_READY, 0x3A, 0x00);
        // SYNCHRONIZE CACHE(10) with IMMED and the obsolete SYNC_NV bit (libiscsi NoMedia): NOT READY too
        check(h.none(n, 0, of(0x35, 0x06, 0, 0, 0, 0, 0, 0, 1, 0)), NOT_READY, 0x3A, 0x00);
        good(h.none(n, 0, preventAllow(1)));
        check(h.none(n, 0, startStop(true, true)), ILLEGAL_REQUEST, 0x53, 0x02);
        good(h.none(n, 0, preventAllow(0)));
        good(h.none(n, 0, startStop(true, true)));
        good(h.none(n, 0, new byte[6]));
        check(h.none(n, 0, preventAllow(2)), ILLEGAL_REQUEST, 0x24, 0x00);
    }

    @Test
    void powerConditionsAreAcceptedWithoutEjectingAndReservedOnesRefused() {
        lu.attributes(new LuAttributes(false, true));
        ScsiEngine.Nexus n = ready("a");
        good(h.none(n, 0, of(0x1B, 0, 0, 0, 0x32, 0))); // STANDBY with LOEJ: LOEJ ignored (SBC-3 5.25)
        good(h.none(n, 0, new byte[6]));
        good(h.none(n, 0, of(0x1B, 0, 0, 0, 0x11, 0))); // ACTIVE
        check(h.none(n, 0, of(0x1B, 0, 0, 0, 0x42, 0)), ILLEGAL_REQUEST, 0x24, 0x00); // 4h reserved
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void anotherNexusPreventsToo_andOthersLearnOfTheReloadedMedium() {
        lu.attributes(new LuAttributes(false, true));
        ScsiEngine.Nexus a = ready("a");
        ScsiEngine.Nexus b = ready("b");
        good(h.none(a, 0, preventAllow(1)));
        check(h.none(b, 0, startStop(true, false)), ILLEGAL_REQUEST, 0x53, 0x02);
        good(h.none(b, 0, preventAllow(0))); // b's allow does not end a's prevention
        check(h.none(b, 0, startStop(true, false)), ILLEGAL_REQUEST, 0x53, 0x02);
        good(h.none(a, 0, preventAllow(0)));
        good(h.none(b, 0, startStop(true, false)));
        good(h.none(b, 0, startStop(true, true)));
        good(h.none(b, 0, new byte[6]));
        check(h.none(a, 0, new byte[6]), UNIT_ATTENTION, 0x28, 0x00); // NOT READY TO READY CHANGE
    }

    @Test
    void preventionEndsWithTheNexusAndWithReset() {
        lu.attributes(new LuAttributes(false, true));
        ScsiEngine.Nexus a = ready("a");
        ScsiEngine.Nexus b = ready("b");
        good(h.none(a, 0, preventAllow(1)));
        a.close();
        good(h.none(b, 0, startStop(true, false)));
        good(h.none(b, 0, startStop(true, true)));
        good(h.none(b, 0, preventAllow(1)));
        b.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET, 0, 0).toCompletableFuture().join();
        check(h.none(b, 0, new byte[6]), UNIT_ATTENTION, 0x29, 0x03);
        good(h.none(b, 0, startStop(true, false)));
    }
}
