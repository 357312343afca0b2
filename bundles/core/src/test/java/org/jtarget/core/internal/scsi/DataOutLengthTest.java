package org.jtarget.core.internal.scsi;

import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Cdbs.rw16;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.core.internal.testkit.TestTask;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/**
 * The Data-Out rows of the residual decision table (docs/conformance.md "Residuals"): what a write does
 * when the transport's expected length E differs from the CDB's length L (FCP-4 FCP_DL rules, RFC 7143 11.4.5).
 * The response's transfer length is L, from which the fabric computes the residual (E - L).
 */
class DataOutLengthTest {
    static final int B = 512;
    final Harness h = new Harness();
    final MemoryBackstore disk = new MemoryBackstore(B, 64, false);

    {
        h.addLu(0, "disk0", disk);
    }

    ScsiEngine.Nexus ready() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 0);
        return n;
    }

    ScsiResponse write(ScsiEngine.Nexus n, byte[] cdb, DataDirection direction, int edtl) {
        byte[] data = new byte[edtl];
        Arrays.fill(data, (byte) 'b');
        return Harness.run(n, new TestTask(0, cdb, h.nextTag(), TaskAttribute.SIMPLE, direction, edtl, data));
    }

    /** The first {@code bytes} of LBA 0.. hold 'b', the rest of {@code total} is untouched (0). */
    void assertWritten(int bytes, int total) {
        byte[] expected = new byte[total];
        Arrays.fill(expected, 0, bytes, (byte) 'b');
        assertArrayEquals(expected, Arrays.copyOf(disk.bytes(), total), "medium after the write");
    }

    @Test
    void exactLengthIsGoodWithoutResidual() {
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 2), DataDirection.WRITE, 2 * B);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(2 * B, r.transferLength());
        assertWritten(2 * B, 4 * B);
    }

    @Test
    void underflowWritesWhatTheCdbAsksForAndReportsTheRest() {
        // E = 10000 > L = 1 block: GOOD, 1 block written, underflow 10000 - 512
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 1), DataDirection.WRITE, 10000);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(B, r.transferLength());
        assertWritten(B, 4 * B);
    }

    @Test
    void overflowInWholeBlocksWritesThoseBlocks() {
        // E = 1 block < L = 2 blocks: GOOD for the block that came, overflow 512 (FCP-4 FCP_DL rule a)
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 2), DataDirection.WRITE, B);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(2 * B, r.transferLength());
        assertWritten(B, 4 * B);
    }

    @Test
    void zeroExpectedLengthWritesNothingAndReportsOverflow() {
        // E = 0 (no Data-Out at all): nothing transferred, nothing written, GOOD with overflow L
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 1), DataDirection.NONE, 0);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(B, r.transferLength());
        assertWritten(0, 2 * B);
    }

    @Test
    void overflowWithAPartialBlockIsRefusedAndWritesNothing() {
        ScsiEngine.Nexus n = ready();
        for (int[] el : new int[][] {{200, 1}, {B + 256, 2}, {1, 16}}) {
            for (byte[] cdb : new byte[][] {rw10(0x2A, 0, el[1]), rw10(0x2E, 0, el[1]), rw16(0x8A, 0, 0, el[1]),
                    rw16(0x8B, 0, 0, el[1])}) {
                ScsiResponse r = write(n, cdb, DataDirection.WRITE, el[0]);
                check(r, 0x5, 0x0E, 0x03); // ILLEGAL REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT
                assertEquals(el[1] * B, r.transferLength(), "L, for the overflow residual L - E");
                assertWritten(0, 16 * B);
            }
        }
    }

    @Test
    void underflowWithAPartialBlockStillWritesTheCdbsLength() {
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 1), DataDirection.WRITE, B + 200);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(B, r.transferLength());
        assertWritten(B, 3 * B);
    }

    @Test
    void expectedLengthBeyondTheMaximumTransferLengthIsRefusedBeforeAnyDataIsAskedFor() {
        // E of 4 GiB - 16 (unsigned in iSCSI) for one block: the fabric would gather all of it first
        for (int edtl : new int[] {0xfffffff0, Inquiry.MAX_TRANSFER_BYTES + B}) {
            TestTask task = new TestTask(0, rw10(0x2A, 0, 1), h.nextTag(), TaskAttribute.SIMPLE, DataDirection.WRITE,
                    edtl, null);
            ScsiResponse r = Harness.run(ready(), task);
            check(r, 0x5, 0x0E, 0x03);
            assertNull(task.given, "no Data-Out was asked for");
            assertWritten(0, 2 * B);
        }
        // within the maximum transfer length, a larger E still writes what the CDB asks for (underflow E - L)
        ScsiResponse r = write(ready(), rw10(0x2A, 0, 1), DataDirection.WRITE, 8 * B);
        assertEquals(ScsiStatus.GOOD, r.status());
        assertWritten(B, 2 * B);
    }

    @Test
    void writeWithItsDataExpectedInTheReadDirectionIsRefused() {
        ScsiResponse r = Harness.run(ready(), new TestTask(0, rw10(0x2A, 0, 1), h.nextTag(), TaskAttribute.SIMPLE,
                DataDirection.READ, B, null));
        check(r, 0x5, 0x0E, 0x03);
        assertNull(r.data());
        assertWritten(0, 2 * B);
    }

    @Test
    void exactDataOutCommandsRefuseAnyOtherLengthAsAnInvalidCdb() {
        ScsiEngine.Nexus n = ready();
        // WRITE SAME(10) takes exactly one block, whatever the number of blocks it fills
        for (int edtl : new int[] {0, 200, 2 * B}) {
            ScsiResponse r = write(n, rw10(0x41, 0, 4), edtl == 0 ? DataDirection.NONE : DataDirection.WRITE, edtl);
            check(r, 0x5, 0x24, 0x00);
            assertEquals(B, r.transferLength());
        }
        // COMPARE AND WRITE of NUMBER OF BLOCKS 0 (256 wrapped into the byte) with 512 blocks of Data-Out
        byte[] caw = rw16(0x89, 0, 0, 0);
        ScsiResponse r = write(n, caw, DataDirection.WRITE, 2 * 256 * B);
        check(r, 0x5, 0x24, 0x00);
        assertEquals(0, r.transferLength());
        assertWritten(0, 8 * B);
    }
}
