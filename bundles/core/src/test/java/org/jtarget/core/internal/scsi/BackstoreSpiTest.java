package org.jtarget.core.internal.scsi;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Cdbs.rw16;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.core.internal.testkit.TestTask;
import org.jtarget.core.internal.tmr.TaskManagement;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the backstore SPI 2.0 lets a backstore tell the core, seen by an initiator. */
class BackstoreSpiTest {
    final Harness h = new Harness();
    final MemoryBackstore disk = new MemoryBackstore(512, 2048, false);

    {
        h.addLu(0, "disk0", disk);
    }

    @AfterEach
    void close() {
        h.close();
    }

    ScsiEngine.Nexus ready() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 0);
        return n;
    }

    @Test
    void blockLimitsAreTheBackstoresAndLargerTransfersAreRefused() {
        disk.limits = BackstoreLimits.DEFAULT.withMaxTransferBytes(512 << 10).withOptimalTransferBytes(256 << 10)
                .withOptimalGranularityBytes(64 << 10).withMaxAtomicBytes(0);
        ScsiEngine.Nexus n = ready();
        ByteBuffer b0 = ByteBuffer.wrap(data(h.in(n, 0, inquiry(true, 0xB0, 64), 64)));
        assertEquals(128, b0.getShort(6), "OPTIMAL TRANSFER LENGTH GRANULARITY: 64 KiB in 512-byte blocks");
        assertEquals(1024, b0.getInt(8), "MAXIMUM TRANSFER LENGTH: 512 KiB");
        assertEquals(512, b0.getInt(12), "OPTIMAL TRANSFER LENGTH: 256 KiB");
        assertEquals(0, b0.getInt(44), "MAXIMUM ATOMIC TRANSFER LENGTH: no atomic writes");
        // SBC-4 6.6.4: a transfer beyond the MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB
        check(h.in(n, 0, rw10(0x28, 0, 1025), 1025 * 512), 0x5, 0x24, 0x00);
        Harness.release(h.in(n, 0, rw10(0x28, 0, 1024), 1024 * 512));
    }

    @Test
    void aReadHandsTheBackstoresOwnBufferToTheFabricWhichReleasesIt() {
        disk.ownBuffers = true;
        disk.bytes()[512] = 42;
        ScsiEngine.Nexus n = ready();
        ScsiResponse r = h.in(n, 0, rw10(0x28, 1, 1), 512);
        assertEquals(1, disk.handedOut.size());
        ByteBuf own = disk.handedOut.get(0);
        assertTrue(r.data() == own, "the backstore's buffer went to the fabric without a copy");
        assertEquals(42, r.data().getByte(0));
        Harness.release(r);
        assertEquals(0, own.refCnt());
    }

    @Test
    void busyIsBusyAloneAndTaskSetFullWithOtherCommandsOutstanding() throws Exception {
        ScsiEngine.Nexus n = ready();
        disk.busy = true;
        assertEquals(ScsiStatus.BUSY, h.out(n, 0, rw10(0x2A, 0, 1), new byte[512]).status());
        disk.busy = false;
        disk.gate = new CompletableFuture<>();
        TestTask slow = new TestTask(0, rw10(0x28, 0, 1), 900, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        n.submit(slow);
        disk.busy = true;
        assertEquals(ScsiStatus.TASK_SET_FULL, h.in(n, 0, rw10(0x28, 0, 1), 512).status());
        disk.busy = false;
        disk.gate.complete(null);
        Harness.release(slow.response.get(5, TimeUnit.SECONDS));
    }

    @Test
    void abortTaskGivesUpOnABackstoreThatNeverAnswersAndTheLateBufferIsReleased() throws Exception {
        ScsiEngine.Nexus n = ready();
        disk.hang = true;
        TestTask read = new TestTask(0, rw10(0x28, 0, 1), 77, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        n.submit(read);
        assertEquals(1, disk.hung.size());
        long t0 = System.nanoTime();
        var tmf = n.taskManagement(TaskManagementFunction.ABORT_TASK, 0, 77).toCompletableFuture();
        assertEquals(TaskManagementResponse.FUNCTION_COMPLETE, tmf.get(TaskManagement.BACKSTORE_GRACE_MILLIS + 10_000,
                TimeUnit.MILLISECONDS), "ABORT TASK completes although the backstore never answered");
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(TaskManagement.BACKSTORE_GRACE_MILLIS),
                "the backstore had its grace period first");
        read.abortedFuture.get(5, TimeUnit.SECONDS);
        assertFalse(read.response.isDone(), "an aborted task gets no status");
        CompletableFuture<ByteBuf> request = disk.hung.get(0);
        assertTrue(request.isCancelled(), "the backstore was told to give up");
        ByteBuf late = Unpooled.directBuffer(512).writeZero(512);
        if (!request.complete(late)) { // the SPI contract: completing a cancelled read, the backstore releases
            late.release();
        }
        assertEquals(0, late.refCnt());
        disk.hang = false;
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void writeSameOfZerosUsesTheBackstoresZeroWriting() {
        disk.zeroWriting = true;
        disk.bytes()[4 * 512 + 7] = 9;
        ScsiEngine.Nexus n = ready();
        good(h.out(n, 0, rw16(0x93, 0, 0, 100), new byte[512]));
        assertEquals(1, disk.zeroWrites.get(), "one zero-writing call for 100 blocks");
        assertEquals(0, disk.writes.get(), "no zero buffers were written");
        assertEquals(0, disk.bytes()[4 * 512 + 7]);
        byte[] ones = new byte[512];
        java.util.Arrays.fill(ones, (byte) 1);
        good(h.out(n, 0, rw16(0x93, 0, 0, 2), ones));
        assertEquals(1, disk.zeroWrites.get(), "a non-zero pattern is written as data");
        assertArrayEquals(ones, java.util.Arrays.copyOfRange(disk.bytes(), 512, 1024));
    }
}
