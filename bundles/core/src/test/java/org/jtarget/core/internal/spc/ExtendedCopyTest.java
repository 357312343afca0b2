package org.jtarget.core.internal.spc;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import org.jtarget.core.internal.engine.LuAttributes;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.junit.jupiter.api.Test;

/** EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.3, 6.18) between two LUs of one nexus. */
class ExtendedCopyTest {
    static final int COPY_ABORTED = 0xA, ILLEGAL_REQUEST = 0x5;
    final Harness h = new Harness();
    final MemoryBackstore a = new MemoryBackstore(512, 4096, true);
    final MemoryBackstore b = new MemoryBackstore(512, 4096, true);
    final ScsiLogicalUnit luA = (ScsiLogicalUnit) h.addLu(0, "a", a);
    final ScsiLogicalUnit luB = (ScsiLogicalUnit) h.addLu(1, "b", b);
    final ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:a");

    ExtendedCopyTest() {
        h.clearUa(n, 0);
        h.clearUa(n, 1);
    }

    static byte[] xcopy(int length) {
        return of(0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, length >>> 24, length >>> 16, length >>> 8, length, 0, 0);
    }

    static byte[] rcr(int sa, int listId, int alloc) {
        return of(0x84, sa, listId, 0, 0, 0, 0, 0, 0, 0, alloc >>> 24, alloc >>> 16, alloc >>> 8, alloc, 0, 0);
    }

    /** Header, E4h target descriptors for {@code targets}, then block-to-block segments {src, dst, blocks, srcLba, dstLba}. */
    static byte[] list(int listId, int usage, ScsiLogicalUnit[] targets, long[]... segments) {
        ByteBuf p = Unpooled.buffer();
        p.writeByte(listId).writeByte(usage << 3).writeShort(32 * targets.length).writeInt(0);
        p.writeInt(28 * segments.length).writeInt(0);
        for (ScsiLogicalUnit t : targets) {
            p.writeByte(0xE4).writeByte(0).writeShort(0);
            p.writeByte(0x01).writeByte(0x03).writeByte(0).writeByte(16).writeBytes(t.naa()).writeZero(4);
            p.writeByte(0).writeMedium(512);
        }
        for (long[] s : segments) {
            p.writeByte(0x02).writeByte(0).writeShort(24).writeShort((int) s[0]).writeShort((int) s[1]);
            p.writeShort(0).writeShort((int) s[2]).writeLong(s[3]).writeLong(s[4]);
        }
        byte[] out = new byte[p.readableBytes()];
        p.readBytes(out);
        return out;
    }

    byte[] fill(int lun, long lba, int blocks, int v) {
        byte[] d = new byte[blocks * 512];
        Arrays.fill(d, (byte) v);
        good(h.out(n, lun, rw10(0x2A, lba, blocks), d));
        return d;
    }

    @Test
    void copiesBetweenLusInsideTheTargetAndHoldsTheStatus() {
        byte[] d = fill(0, 10, 8, 0x41);
        byte[] p = list(7, 0, new ScsiLogicalUnit[] {luA, luB}, new long[] {0, 1, 8, 10, 100});
        good(h.out(n, 0, xcopy(p.length), p));
        assertArrayEquals(d, data(h.in(n, 1, rw10(0x28, 100, 8), 4096)));
        byte[] status = data(h.in(n, 0, rcr(0x00, 7, 12), 12));
        assertEquals(0x01, status[4], "completed good");
        assertEquals(1, status[6], "one segment");
        assertEquals(4096, ((status[10] & 0xFF) << 8) | (status[11] & 0xFF));
        assertEquals(4, data(h.in(n, 0, rcr(0x04, 7, 64), 64)).length, "no failed segment details");
        check(h.in(n, 0, rcr(0x00, 8, 12), 12), ILLEGAL_REQUEST, 0x24, 0x00); // never held
    }

    @Test
    void operatingParametersAndVpd8fAgree() {
        byte[] op = data(h.in(n, 0, rcr(0x03, 0, 64), 64));
        assertEquals(ExtendedCopy.MAX_TARGETS, ((op[8] & 0xFF) << 8) | (op[9] & 0xFF));
        assertEquals(ExtendedCopy.MAX_SEGMENTS, ((op[10] & 0xFF) << 8) | (op[11] & 0xFF));
        assertEquals(2, op[43]);
        assertEquals(0x02, op[44] & 0xFF);
        assertEquals(0xE4, op[45] & 0xFF);
        byte[] std = data(h.in(n, 0, inquiry(false, 0, 96), 96));
        assertEquals(0x08, std[5] & 0x08, "3PC");
        byte[] vpd = data(h.in(n, 0, inquiry(true, 0x8F, 255), 255));
        assertEquals(0x8F, vpd[1] & 0xFF);
        assertEquals(0x0001, ((vpd[4] & 0xFF) << 8) | (vpd[5] & 0xFF), "supported commands descriptor first");
        byte[] pages = data(h.in(n, 0, inquiry(true, 0, 64), 64));
        assertTrue(new String(pages, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf((char) 0x8F) > 3);
    }

    @Test
    void parameterListErrors() {
        byte[] p = list(1, 0, new ScsiLogicalUnit[] {luA}, new long[] {0, 0, 8, 0, 100});
        check(h.out(n, 0, xcopy(16 + 31), Arrays.copyOf(p, 16 + 31)), ILLEGAL_REQUEST, 0x1A, 0x00);
        check(h.out(n, 0, xcopy(p.length - 1), Arrays.copyOf(p, p.length - 1)), ILLEGAL_REQUEST, 0x1A, 0x00);
        good(h.none(n, 0, xcopy(0)));
        ScsiLogicalUnit[] nine = new ScsiLogicalUnit[9];
        Arrays.fill(nine, luA);
        byte[] many = list(1, 0, nine, new long[] {0, 0, 1, 0, 1});
        check(h.out(n, 0, xcopy(many.length), many), ILLEGAL_REQUEST, 0x26, 0x06);
        long[][] segs = new long[65][];
        Arrays.fill(segs, new long[] {0, 0, 1, 0, 1});
        byte[] manySegs = list(1, 0, new ScsiLogicalUnit[] {luA}, segs);
        check(h.out(n, 0, xcopy(manySegs.length), manySegs), ILLEGAL_REQUEST, 0x26, 0x08);
        byte[] fc = p.clone();
        fc[16] = (byte) 0xE0; // Fibre Channel N_Port_Name target descriptor
        check(h.out(n, 0, xcopy(fc.length), fc), ILLEGAL_REQUEST, 0x26, 0x07);
        byte[] stream = p.clone();
        stream[48] = 0x03; // stream-to-stream segment
        check(h.out(n, 0, xcopy(stream.length), stream), ILLEGAL_REQUEST, 0x26, 0x09);
        byte[] luIdType = p.clone();
        luIdType[17] = (byte) 0xC0; // LU ID TYPE: E4h has no LU IDENTIFIER, so it does not matter
        good(h.out(n, 0, xcopy(luIdType.length), luIdType));
        byte[] tape = p.clone();
        tape[17] = 0x01; // PERIPHERAL DEVICE TYPE 01h: not a block device
        check(h.out(n, 0, xcopy(tape.length), tape), ILLEGAL_REQUEST, 0x26, 0x00);
    }

    @Test
    void copyErrorsAreCopyAbortedAndKeptAsFailedSegmentDetails() {
        byte[] badIndex = list(2, 0, new ScsiLogicalUnit[] {luA}, new long[] {0, 1, 8, 0, 100});
        check(h.out(n, 0, xcopy(badIndex.length), badIndex), COPY_ABORTED, 0x08, 0x04);
        byte[] nul = list(3, 0, new ScsiLogicalUnit[] {luA}, new long[] {0, 0, 8, 0, 100});
        nul[17] = 0x20; // NUL
        check(h.out(n, 0, xcopy(nul.length), nul), COPY_ABORTED, 0x0D, 0x02);
        byte[] beyond = list(4, 0, new ScsiLogicalUnit[] {luA}, new long[] {0, 0, 8, 0, 4096 - 1});
        check(h.out(n, 0, xcopy(beyond.length), beyond), COPY_ABORTED, 0x00, 0x00);
        byte[] details = data(h.in(n, 0, rcr(0x04, 4, 128), 128));
        assertEquals(0x02, details[56], "COPY COMMAND STATUS: CHECK CONDITION");
        assertEquals(0x0A, details[60 + 2] & 0x0F, "sense key COPY ABORTED");
        assertEquals(0x02, data(h.in(n, 0, rcr(0x00, 4, 12), 12))[4], "completed with an error");
        luB.attributes(new LuAttributes(true, false));
        h.clearUa(n, 1);
        h.clearUa(n, 0);
        byte[] toReadOnly = list(5, 0, new ScsiLogicalUnit[] {luA, luB}, new long[] {0, 1, 8, 0, 100});
        check(h.out(n, 0, xcopy(toReadOnly.length), toReadOnly), COPY_ABORTED, 0x00, 0x00);
        Harness other = new Harness(); // an LU this nexus cannot reach is not a copy target
        ScsiLogicalUnit hidden = (ScsiLogicalUnit) other.addLu(0, "hidden", new MemoryBackstore(512, 4096, true));
        byte[] unreachable = list(6, 0, new ScsiLogicalUnit[] {luA, hidden}, new long[] {0, 1, 8, 0, 100});
        check(h.out(n, 0, xcopy(unreachable.length), unreachable), COPY_ABORTED, 0x0D, 0x02);
    }
}
