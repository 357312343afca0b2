package org.jtarget.core.internal.sbc;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rsoc;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LuAttributes;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.core.internal.testkit.TestTask;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/** SANITIZE (SBC-3 5.30): service actions offered, parameter checks, background run and its sense. */
class SanitizeTest {
    static final int BLOCKS = 2048;
    final Harness h = new Harness();
    final MemoryBackstore disk = new MemoryBackstore(512, BLOCKS, true);
    final LogicalUnit lu = h.addLu(0, "disk0", disk);

    ScsiEngine.Nexus ready(String name) {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:" + name);
        h.clearUa(n, 0);
        return n;
    }

    static byte[] sanitize(int sa, boolean immed, int length) {
        return of(0x48, (immed ? 0x80 : 0) | sa, 0, 0, 0, 0, 0, length >>> 8, length, 0);
    }

    static byte[] overwriteList(int count, boolean invert, int patternLength, int fill, int listLength) {
        byte[] p = new byte[listLength];
        p[0] = (byte) ((invert ? 0x80 : 0) | count);
        p[2] = (byte) (patternLength >>> 8);
        p[3] = (byte) patternLength;
        Arrays.fill(p, 4, listLength, (byte) fill);
        return p;
    }

    byte[] block(ScsiEngine.Nexus n, long lba) {
        return data(h.in(n, 0, rw10(0x28, lba, 1), 512));
    }

    @Test
    void offersOverwriteBlockEraseAndExitFailureModeButNotCryptographicErase() {
        ScsiEngine.Nexus n = ready("a");
        for (int sa : new int[] {0x01, 0x02, 0x1F}) {
            assertEquals(0x03, data(h.in(n, 0, rsoc(2, 0x48, sa, 64, false), 64))[1] & 0x07, "SA " + sa);
        }
        assertEquals(0x01, data(h.in(n, 0, rsoc(2, 0x48, 0x03, 64, false), 64))[1] & 0x07);
        check(h.none(n, 0, sanitize(0x03, false, 0)), 0x5, 0x24, 0x00);
        check(h.none(n, 0, sanitize(0x05, false, 0)), 0x5, 0x24, 0x00);
        byte[] b1 = data(h.in(n, 0, inquiry(true, 0xB1, 64), 64));
        assertEquals(0x40, b1[7] & 0xF0, "WABEREQ 01b, WACEREQ 00b");
    }

    /** A key that, once destroyed, turns every stored byte into something else (as decryption with a new key). */
    final class Key implements org.jtarget.spi.backstore.CryptographicErase {
        final java.util.concurrent.atomic.AtomicInteger erased = new java.util.concurrent.atomic.AtomicInteger();
        volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

        @Override
        public java.util.concurrent.CompletionStage<Void> eraseKey() {
            return gate.thenRun(() -> {
                byte[] b = disk.bytes();
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) ~b[i];
                }
                erased.incrementAndGet();
            });
        }
    }

    @Test
    void cryptographicEraseIsOfferedWhenTheBackstoreEncryptsAndReplacesTheKey() {
        Key key = new Key();
        disk.crypto = key;
        ScsiEngine.Nexus n = ready("a");
        assertEquals(0x03, data(h.in(n, 0, rsoc(2, 0x48, 0x03, 64, false), 64))[1] & 0x07, "SA 03h supported");
        byte[] b1 = data(h.in(n, 0, inquiry(true, 0xB1, 64), 64));
        assertEquals(0x50, b1[7] & 0xF0, "WABEREQ 01b, WACEREQ 01b");
        boolean listed = false;
        byte[] all = data(h.in(n, 0, rsoc(0, 0, 0, 4096, false), 4096));
        for (int i = 4; i + 8 <= all.length; i += 8 + ((all[i + 5] & 0x02) != 0 ? 12 : 0)) {
            listed |= (all[i] & 0xFF) == 0x48 && (all[i + 3] & 0xFF) == 0x03 && (all[i + 5] & 0x01) != 0;
        }
        assertTrue(listed, "REPORT SUPPORTED OPERATION CODES (all) lists SANITIZE SA 03h");

        check(h.out(n, 0, sanitize(0x03, false, 8), new byte[8]), 0x5, 0x24, 0x00); // no parameter list (5.30.5)
        assertEquals(0, key.erased.get());

        byte[] written = filled(0x61);
        good(h.out(n, 0, rw10(0x2A, 0, 1), written));
        good(h.none(n, 0, sanitize(0x03, false, 0)));
        assertEquals(1, key.erased.get());
        assertTrue(disk.flushes.get() > 0, "made durable");
        byte[] after = block(n, 0); // WACEREQ 01b: the read succeeds, with other data
        assertFalse(Arrays.equals(written, after));
    }

    @Test
    void cryptographicEraseRunsInTheBackgroundLikeTheOthers() {
        Key key = new Key();
        key.gate = new CompletableFuture<>();
        disk.crypto = key;
        ScsiEngine.Nexus n = ready("a");
        good(h.none(n, 0, sanitize(0x03, true, 0))); // IMMED: GOOD at once
        check(h.in(n, 0, rw10(0x28, 0, 1), 512), 0x2, 0x04, 0x1B); // NOT READY, SANITIZE IN PROGRESS
        check(h.none(n, 0, sanitize(0x03, false, 0)), 0x2, 0x04, 0x1B);
        key.gate.complete(null);
        assertEquals(1, key.erased.get());
        block(n, 0);
    }

    @Test
    void blockEraseIsOfferedOnlyWhenTheBackstoreDeallocates() {
        Harness fixed = new Harness();
        fixed.addLu(0, "thick", new MemoryBackstore(512, BLOCKS, false));
        ScsiEngine.Nexus n = fixed.open("iqn.2026-11.org.test:a");
        fixed.clearUa(n, 0);
        assertEquals(0x01, data(fixed.in(n, 0, rsoc(2, 0x48, 0x02, 64, false), 64))[1] & 0x07);
        assertEquals(0x03, data(fixed.in(n, 0, rsoc(2, 0x48, 0x01, 64, false), 64))[1] & 0x07);
        assertEquals(0, data(fixed.in(n, 0, inquiry(true, 0xB1, 64), 64))[7] & 0xF0);
    }

    @Test
    void blockEraseIsNotOfferedWhenDeallocatedBlocksDoNotReadAsZeros() {
        Harness fixed = new Harness();
        MemoryBackstore discarding = new MemoryBackstore(512, BLOCKS, true);
        discarding.unmapLeavesGarbage = true;
        fixed.addLu(0, "discard", discarding);
        ScsiEngine.Nexus n = fixed.open("iqn.2026-11.org.test:a");
        fixed.clearUa(n, 0);
        assertEquals(0x01, data(fixed.in(n, 0, rsoc(2, 0x48, 0x02, 64, false), 64))[1] & 0x07, "BLOCK ERASE");
        assertEquals(0, data(fixed.in(n, 0, inquiry(true, 0xB1, 64), 64))[7] & 0xC0, "WABEREQ 00b");
        check(fixed.none(n, 0, sanitize(0x02, false, 0)), 0x5, 0x24, 0x00);
    }

    @Test
    void overwriteWritesThePatternEverywhereThroughToStableStorage() {
        ScsiEngine.Nexus n = ready("a");
        good(h.out(n, 0, sanitize(0x01, false, 4 + 4), overwriteList(1, false, 4, 0x5A, 8)));
        byte[] expected = new byte[512];
        Arrays.fill(expected, (byte) 0x5A);
        assertTrue(Arrays.equals(expected, block(n, 0)));
        assertTrue(Arrays.equals(expected, block(n, BLOCKS - 1)));
        assertTrue(disk.lastFua, "written with FUA");
        // two passes with INVERT: the second pass writes the inverted pattern
        good(h.out(n, 0, sanitize(0x01, false, 4 + 512), overwriteList(2, true, 512, 0x0F, 516)));
        Arrays.fill(expected, (byte) 0xF0);
        assertTrue(Arrays.equals(expected, block(n, 7)));
    }

    @Test
    void badParameterListsAreInvalidFieldInCdb() {
        ScsiEngine.Nexus n = ready("a");
        for (int len : new int[] {0, 1, 4, 512 + 5}) {
            check(h.out(n, 0, sanitize(0x01, false, len), new byte[len]), 0x5, 0x24, 0x00);
        }
        check(h.out(n, 0, sanitize(0x01, false, 516), overwriteList(0, false, 512, 1, 516)), 0x5, 0x24, 0x00);
        check(h.out(n, 0, sanitize(0x01, false, 516), overwriteList(1, false, 0, 1, 516)), 0x5, 0x24, 0x00);
        check(h.out(n, 0, sanitize(0x01, false, 516), overwriteList(1, false, 516, 1, 516)), 0x5, 0x24, 0x00);
        check(h.out(n, 0, sanitize(0x02, false, 8), new byte[8]), 0x5, 0x24, 0x00);
        check(h.out(n, 0, sanitize(0x1F, false, 8), new byte[8]), 0x5, 0x24, 0x00);
        check(h.none(n, 0, of(0x48, 0x01 | 0x40, 0, 0, 0, 0, 0, 0, 8, 0)), 0x5, 0x24, 0x00); // reserved bit
        good(h.none(n, 0, sanitize(0x1F, false, 0))); // not in failure mode: nothing to leave
    }

    @Test
    void blockEraseDeallocatesEveryBlock() {
        ScsiEngine.Nexus n = ready("a");
        good(h.out(n, 0, rw10(0x2A, 0, 1), filled(0x61)));
        good(h.none(n, 0, sanitize(0x02, false, 0)));
        assertTrue(Arrays.equals(new byte[512], block(n, 0)));
        byte[] status = data(h.in(n, 0, of(0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0), 24));
        assertEquals(1, status[20] & 0x0F, "deallocated");
        assertEquals(BLOCKS, ((status[16] & 0xFF) << 24 | (status[17] & 0xFF) << 16 | (status[18] & 0xFF) << 8
                | (status[19] & 0xFF)));
    }

    @Test
    void whileRunningOnlyInquiryReportLunsAndRequestSenseAreServedAndItOutlivesAbortAndReset() throws Exception {
        ScsiEngine.Nexus n = ready("a");
        ScsiEngine.Nexus other = ready("b");
        disk.gate = new CompletableFuture<>();
        TestTask running = new TestTask(0, sanitize(0x01, false, 8), h.nextTag(), TaskAttribute.SIMPLE,
                DataDirection.WRITE, 8, overwriteList(1, false, 4, 0x11, 8));
        n.submit(running);
        byte[] s = check(h.none(other, 0, new byte[6]), 0x2, 0x04, 0x1B);
        assertEquals(0x80, s[15] & 0x80, "SKSV with the progress indication");
        check(h.in(other, 0, rw10(0x28, 0, 1), 512), 0x2, 0x04, 0x1B);
        check(h.none(other, 0, of(0x1B, 1, 0, 0, 0x02, 0)), 0x2, 0x04, 0x1B); // START STOP UNIT too
        data(h.in(other, 0, inquiry(false, 0, 96), 96));
        byte[] rs = data(h.in(other, 0, of(0x03, 0, 0, 0, 18, 0), 18));
        assertEquals(0x02, rs[2] & 0x0F);
        assertEquals(0x04, rs[12]);
        assertEquals(0x1B, rs[13]);
        assertEquals(0x80, rs[15] & 0x80);
        // ABORT TASK ends the command at once; the operation goes on through a LUN reset
        n.taskManagement(TaskManagementFunction.ABORT_TASK, 0, running.tag()).toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        assertTrue(running.abortedFuture.isDone(), "the fabric heard of the abort");
        n.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET, 0, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
        check(h.none(other, 0, new byte[6]), 0x6, 0x29, 0x03);
        check(h.none(other, 0, new byte[6]), 0x2, 0x04, 0x1B);
        disk.gate.complete(null);
        disk.gate = null;
        for (int i = 0; i < 100 && lu instanceof org.jtarget.core.internal.scsi.ScsiLogicalUnit s2
                && s2.sanitize().running(); i++) {
            Thread.sleep(10);
        }
        good(h.none(other, 0, new byte[6]));
        assertEquals(0x11, block(other, BLOCKS - 1)[0]);
    }

    @Test
    void immediateAnswersAtOnceAndReadOnlyRefusesIt() {
        ScsiEngine.Nexus n = ready("a");
        disk.gate = new CompletableFuture<>();
        good(h.out(n, 0, sanitize(0x01, true, 8), overwriteList(1, false, 4, 0x22, 8)));
        check(h.none(n, 0, new byte[6]), 0x2, 0x04, 0x1B);
        disk.gate.complete(null);
        disk.gate = null;
        lu.attributes(new LuAttributes(true, false));
        Harness.release(h.none(n, 0, new byte[6])); // MODE PARAMETERS CHANGED
        for (int i = 0; i < 100; i++) {
            ScsiResponse r = h.out(n, 0, sanitize(0x01, false, 8), overwriteList(1, false, 4, 0x22, 8));
            Harness.release(r);
            if (r.status() == ScsiStatus.CHECK_CONDITION && (r.sense()[2] & 0x0F) == 0x7) {
                assertEquals(0x27, r.sense()[12]);
                return;
            }
        }
        assertFalse(true, "SANITIZE on a read-only LU must end in DATA PROTECT");
    }

    @Test
    void paceHoldsAJobToItsRate() throws Exception {
        Sanitize.Pace pace = new Sanitize.Pace(System.nanoTime(), 1 << 20); // 1 MiB/s
        CompletableFuture<Void> wait = pace.after(256 << 10).toCompletableFuture();
        assertFalse(wait.isDone(), "256 KiB at 1 MiB/s is due in about 250 ms");
        wait.get(2, TimeUnit.SECONDS);
    }

    static byte[] filled(int v) {
        byte[] b = new byte[512];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
