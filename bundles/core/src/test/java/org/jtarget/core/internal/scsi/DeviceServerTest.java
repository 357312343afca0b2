package org.jtarget.core.internal.scsi;

import static org.jtarget.core.internal.testkit.Cdbs.inquiry;
import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.reportLuns;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Cdbs.rw16;
import static org.jtarget.core.internal.testkit.Harness.check;
import static org.jtarget.core.internal.testkit.Harness.data;
import static org.jtarget.core.internal.testkit.Harness.good;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.core.internal.testkit.Harness;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.core.internal.testkit.TestTask;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.junit.jupiter.api.Test;

/** Commands through a nexus against an in-memory backstore, as a fabric would drive them. */
class DeviceServerTest {
    final Harness h = new Harness();
    final MemoryBackstore disk = new MemoryBackstore(512, 2048, false);
    final LogicalUnit lu = h.addLu(0, "disk0", disk);

    ScsiEngine.Nexus ready() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 0);
        return n;
    }

    @Test
    void firstCommandReportsPowerOnThenItIsCleared() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        check(h.none(n, 0, new byte[6]), 0x6, 0x29, 0x00);
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void inquiryAndReportLunsNeitherReportNorClearTheUnitAttention() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        data(h.in(n, 0, inquiry(false, 0, 96), 96));
        data(h.in(n, 0, reportLuns(0, 64), 64));
        check(h.none(n, 0, new byte[6]), 0x6, 0x29, 0x00);
    }

    @Test
    void requestSenseReturnsAndClearsTheUnitAttention() {
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        byte[] s = data(h.in(n, 0, of(0x03, 0, 0, 0, 18, 0), 18));
        assertEquals(0x70, s[0]);
        assertEquals(0x06, s[2]);
        assertEquals(0x29, s[12]);
        assertEquals(0x00, s[13]);
        byte[] none = data(h.in(n, 0, of(0x03, 0, 0, 0, 18, 0), 18));
        assertEquals(0, none[2]);
        assertEquals(0, none[12]);
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void readsBackWhatWasWritten() {
        ScsiEngine.Nexus n = ready();
        byte[] block = new byte[1024];
        for (int i = 0; i < block.length; i++) {
            block[i] = (byte) (i * 7);
        }
        good(h.out(n, 0, rw10(0x2A, 0x08, 100, 2), block));
        assertTrue(disk.lastFua, "FUA passed to the backstore");
        assertArrayEquals(block, data(h.in(n, 0, rw10(0x28, 100, 2), 1024)));
        assertArrayEquals(block, data(h.in(n, 0, rw16(0x88, 0, 100, 2), 1024)));
    }

    @Test
    void shortDataOutWritesOnlyTheWholeBlocksThatArrived() {
        ScsiEngine.Nexus n = ready();
        byte[] ones = new byte[512];
        Arrays.fill(ones, (byte) 1);
        ScsiResponse r = Harness.run(n, new TestTask(0, rw10(0x2A, 7, 2), h.nextTag(), TaskAttribute.SIMPLE,
                DataDirection.WRITE, 512, ones));
        assertEquals(ScsiStatus.GOOD, r.status());
        assertEquals(1024, r.transferLength(), "the fabric reports the overflow residual");
        assertEquals(1, disk.bytes()[7 * 512]);
        assertEquals(0, disk.bytes()[8 * 512]);
    }

    @Test
    void outOfRangeAndOfflineSense() {
        ScsiEngine.Nexus n = ready();
        check(h.in(n, 0, rw10(0x28, 2048, 1), 512), 0x5, 0x21, 0x00);
        Harness.good(h.in(n, 0, rw10(0x28, 2048, 0), 0));
        lu.detach();
        check(h.in(n, 0, rw10(0x28, 0, 1), 512), 0x2, 0x04, 0x03);
        check(h.none(n, 0, new byte[6]), 0x2, 0x04, 0x03);
        data(h.in(n, 0, inquiry(false, 0, 96), 96));
        lu.attach(disk);
        check(h.none(n, 0, new byte[6]), 0x6, 0x28, 0x00);
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void unmappedLunAnswersInquiryWithQualifierAndOthersNotSupported() {
        ScsiEngine.Nexus n = ready();
        byte[] inq = data(h.in(n, 3, inquiry(false, 0, 36), 36));
        assertEquals(0x7F, inq[0] & 0xFF);
        check(h.none(n, 3, new byte[6]), 0x5, 0x25, 0x00);
    }

    @Test
    void standardInquiry() {
        ScsiEngine.Nexus n = ready();
        byte[] d = data(h.in(n, 0, inquiry(false, 0, 255), 255));
        assertEquals(74, d.length);
        assertEquals(0, d[0]);
        assertEquals(0x06, d[2], "SPC-4");
        assertEquals(0x02, d[3] & 0x0F, "response data format");
        assertEquals(d.length - 5, d[4]);
        assertEquals("JTARGET ", new String(d, 8, 8, StandardCharsets.US_ASCII));
        assertEquals("jtarget-memory  ", new String(d, 16, 16, StandardCharsets.US_ASCII));
        assertEquals(36, data(h.in(n, 0, inquiry(false, 0, 36), 36)).length, "allocation length truncates");
        check(h.in(n, 0, inquiry(false, 0x80, 255), 255), 0x5, 0x24, 0x00);
        check(h.in(n, 0, inquiry(true, 0x42, 255), 255), 0x5, 0x24, 0x00);
    }

    @Test
    void vpdPagesParse() {
        ScsiEngine.Nexus n = ready();
        byte[] p0 = data(h.in(n, 0, inquiry(true, 0x00, 255), 255));
        assertArrayEquals(new byte[] {0, 0, 0, 6, 0x00, (byte) 0x80, (byte) 0x83, (byte) 0x8F, (byte) 0xB0, (byte) 0xB1}, p0);
        for (int i = 4; i < p0.length; i++) {
            byte[] page = data(h.in(n, 0, inquiry(true, p0[i] & 0xFF, 1024), 1024));
            assertEquals(p0[i], page[1]);
            assertEquals(page.length - 4, ((page[2] & 0xFF) << 8) | (page[3] & 0xFF), "page length");
        }
        byte[] serial = data(h.in(n, 0, inquiry(true, 0x80, 255), 255));
        assertEquals("serial-disk0", new String(serial, 4, serial.length - 4, StandardCharsets.US_ASCII));

        byte[] ids = data(h.in(n, 0, inquiry(true, 0x83, 1024), 1024));
        boolean naa = false, rtpi = false, tpg = false, name = false;
        for (int off = 4; off < ids.length; ) {
            int type = ids[off + 1] & 0x0F;
            int assoc = (ids[off + 1] >>> 4) & 0x03;
            boolean piv = (ids[off + 1] & 0x80) != 0;
            int len = ids[off + 3] & 0xFF;
            if (type == 3) {
                naa = true;
                assertEquals(16, len);
                assertEquals(6, (ids[off + 4] & 0xF0) >>> 4, "NAA IEEE Registered Extended");
                assertArrayEquals(Inquiry.naa("serial-disk0"), Arrays.copyOfRange(ids, off + 4, off + 20));
            } else if (type == 4) {
                rtpi = true;
                assertTrue(piv);
                assertEquals(1, assoc);
                assertEquals(5, (ids[off] & 0xF0) >>> 4, "iSCSI protocol identifier");
                assertEquals(1, ids[off + 7]);
            } else if (type == 5) {
                tpg = true;
                assertEquals(1, ids[off + 7]);
            } else if (type == 8 && assoc == 2) {
                name = true;
                assertEquals(0, len % 4);
                assertTrue(new String(ids, off + 4, len, StandardCharsets.UTF_8).startsWith("iqn.2026-11.org.jtarget:test\0"));
            }
            off += 4 + len;
        }
        assertTrue(naa && rtpi && tpg && name);
        byte[] limits = data(h.in(n, 0, inquiry(true, 0xB0, 255), 255));
        assertEquals(0x3C, limits[3]);
        assertEquals(Inquiry.MAX_TRANSFER_BYTES / 512, java.nio.ByteBuffer.wrap(limits, 8, 4).getInt());
        check(h.in(n, 0, inquiry(true, 0xB2, 255), 255), 0x5, 0x24, 0x00);
    }

    @Test
    void thinLuOffersProvisioningPagesAndUnmap() {
        MemoryBackstore thin = new MemoryBackstore(512, 1024, true);
        h.addLu(1, "thin", thin);
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 1);
        byte[] p0 = data(h.in(n, 1, inquiry(true, 0x00, 255), 255));
        assertEquals((byte) 0xB2, p0[p0.length - 1]);
        byte[] b2 = data(h.in(n, 1, inquiry(true, 0xB2, 255), 255));
        assertEquals(0x80 | 0x40 | 0x20 | 0x04, b2[5] & 0xFF);
        byte[] rc16 = data(h.in(n, 1, rw16(0x9E, 0x10, 0, 32), 32));
        assertEquals(1023, java.nio.ByteBuffer.wrap(rc16).getLong());
        assertEquals(0xC0, rc16[14] & 0xFF, "LBPME LBPRZ");
        assertEquals(0, rc16[13], "one logical block per physical block");

        byte[] ones = new byte[512 * 4];
        Arrays.fill(ones, (byte) 0xAB);
        good(h.out(n, 1, rw10(0x2A, 10, 4), ones));
        byte[] param = new byte[24];
        param[1] = 22;
        param[3] = 16;
        param[15] = 11; // LBA 11
        param[19] = 2; // 2 blocks
        good(h.out(n, 1, of(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), param));
        byte[] back = data(h.in(n, 1, rw10(0x28, 10, 4), 2048));
        assertEquals((byte) 0xAB, back[0]);
        assertEquals(0, back[512]);
        assertEquals((byte) 0xAB, back[3 * 512]);
        byte[] status = data(h.in(n, 1, rw16(0x9E, 0x12, 11, 64), 64));
        assertEquals(11, java.nio.ByteBuffer.wrap(status, 8, 8).getLong());
        assertEquals(2, java.nio.ByteBuffer.wrap(status, 16, 4).getInt());
        assertEquals(1, status[20], "deallocated");
    }

    @Test
    void writeSameWithUnmapDeallocatesWhateverTheBlockHolds() {
        MemoryBackstore thin = new MemoryBackstore(512, 64, true);
        h.addLu(1, "thin", thin);
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 1);
        byte[] ff = new byte[512 * 4];
        Arrays.fill(ff, (byte) 0xFF);
        good(h.out(n, 1, rw10(0x2A, 60, 4), ff));
        good(h.out(n, 1, rw10(0x41, 0x08, 60, 0), Arrays.copyOf(ff, 512))); // UNMAP, 0 blocks: to the end
        assertArrayEquals(new byte[2048], data(h.in(n, 1, rw10(0x28, 60, 4), 2048)));
        check(h.in(n, 1, rw16(0x9E, 0x12, 64, 64), 64), 0x5, 0x21, 0x00);
        check(h.in(n, 1, rw16(0x9E, 0x12, 0x8000000000000000L, 64), 64), 0x5, 0x21, 0x00);
    }

    @Test
    void aThinLuWhoseUnmapLeavesUndefinedDataReportsLbprzZeroAndWritesTheDataForWriteSameWithUnmap() {
        MemoryBackstore discarding = new MemoryBackstore(512, 64, true);
        discarding.unmapLeavesGarbage = true;
        h.addLu(1, "discard", discarding);
        ScsiEngine.Nexus n = h.open("iqn.2026-11.org.test:init1");
        h.clearUa(n, 1);
        byte[] b2 = data(h.in(n, 1, inquiry(true, 0xB2, 255), 255));
        assertEquals(0x80 | 0x40 | 0x20, b2[5] & 0xFF, "LBPU LBPWS LBPWS10, LBPRZ 000b");
        byte[] rc16 = data(h.in(n, 1, rw16(0x9E, 0x10, 0, 32), 32));
        assertEquals(0x80, rc16[14] & 0xFF, "LBPME without LBPRZ");
        byte[] ff = new byte[512 * 4];
        Arrays.fill(ff, (byte) 0xFF);
        good(h.out(n, 1, rw10(0x2A, 40, 4), ff));
        byte[] five = new byte[512];
        Arrays.fill(five, (byte) 0x55);
        good(h.out(n, 1, rw10(0x41, 0x08, 40, 2), five)); // WRITE SAME(10) UNMAP: the data, not garbage
        byte[] back = data(h.in(n, 1, rw10(0x28, 40, 4), 2048));
        assertArrayEquals(five, Arrays.copyOfRange(back, 0, 512));
        assertArrayEquals(five, Arrays.copyOfRange(back, 512, 1024));
        assertEquals((byte) 0xFF, back[1024], "the blocks after the range are untouched");
        byte[] param = new byte[24];
        param[1] = 22;
        param[3] = 16;
        param[15] = 42; // LBA 42
        param[19] = 2; // 2 blocks
        good(h.out(n, 1, of(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), param)); // UNMAP itself still deallocates
        byte[] status = data(h.in(n, 1, rw16(0x9E, 0x12, 42, 64), 64));
        assertEquals(1, status[20], "deallocated");
    }

    @Test
    void writeAtomicWritesAndIsLimitedByTheMaximumTransferLength() {
        disk.limits = BackstoreLimits.DEFAULT.withMaxAtomicBytes(8 * 512);
        ScsiEngine.Nexus n = ready();
        byte[] cdb = rw16(0x9C, 0, 40, 0);
        cdb[13] = 2;
        byte[] two = new byte[1024];
        Arrays.fill(two, (byte) 0x5A);
        good(h.out(n, 0, cdb, two));
        assertEquals(0x5A, disk.bytes()[41 * 512]);
        cdb[10] = 1; // ATOMIC BOUNDARY is not supported
        assertEquals(10, check(h.out(n, 0, cdb, two), 0x5, 0x24, 0x00)[17]);
        cdb[10] = 0;
        cdb[13] = 9; // beyond the MAXIMUM ATOMIC TRANSFER LENGTH of 8 blocks
        assertEquals(12, check(h.out(n, 0, cdb, new byte[9 * 512]), 0x5, 0x24, 0x00)[17]);
        byte[] b0 = data(h.in(n, 0, of(0x12, 1, 0xB0, 0, 64, 0), 64));
        assertEquals(8, java.nio.ByteBuffer.wrap(b0).getInt(44), "MAXIMUM ATOMIC TRANSFER LENGTH");
    }

    @Test
    void withoutAtomicWritesFromTheBackstoreWriteAtomicIsNotOffered() {
        // the default: a backstore that cannot keep a write whole across a crash declares none
        assertEquals(0, BackstoreLimits.DEFAULT.maxAtomicBytes());
        ScsiEngine.Nexus n = ready();
        byte[] cdb = rw16(0x9C, 0, 40, 0);
        cdb[13] = 1;
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 0x5A);
        check(h.out(n, 0, cdb, block), 0x5, 0x20, 0x00); // INVALID COMMAND OPERATION CODE
        assertEquals(0, disk.bytes()[40 * 512], "nothing written");
        byte[] b0 = data(h.in(n, 0, of(0x12, 1, 0xB0, 0, 64, 0), 64));
        assertEquals(0, java.nio.ByteBuffer.wrap(b0).getInt(44), "MAXIMUM ATOMIC TRANSFER LENGTH");
        byte[] one = data(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(1, 0x9C, 0, 64, true), 64));
        assertEquals(0x01, one[1] & 0x07, "SUPPORT: not supported");
    }

    @Test
    void reportSupportedOperationCodesListsExactlyTheTable() {
        ScsiEngine.Nexus n = ready();
        ScsiLogicalUnit slu = (ScsiLogicalUnit) lu;
        var expected = h.server.opcodeTable().available(slu);
        byte[] all = data(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(0, 0, 0, 8192, false), 8192));
        int len = java.nio.ByteBuffer.wrap(all).getInt();
        assertEquals(8 * expected.size(), len);
        for (int i = 0; i < expected.size(); i++) {
            int off = 4 + 8 * i;
            var d = expected.get(i);
            assertEquals(d.opcode(), all[off] & 0xFF);
            assertEquals(d.serviceAction() >= 0, (all[off + 5] & 0x01) != 0, "SERVACTV of " + d);
            assertEquals(Math.max(0, d.serviceAction()), ((all[off + 2] & 0xFF) << 8) | (all[off + 3] & 0xFF));
            assertEquals(d.cdbLength(), ((all[off + 6] & 0xFF) << 8) | (all[off + 7] & 0xFF));
        }
        assertFalse(expected.stream().anyMatch(d -> d.opcode() == 0x42), "no UNMAP on a thick LU");
        // one command: WRITE(10) with its usage data
        byte[] one = data(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(1, 0x2A, 0, 64, true), 64));
        assertEquals(0x80 | 0x03, one[1] & 0xFF, "CTDP, supported");
        assertEquals(10, one[3]);
        assertEquals(0x2A, one[4] & 0xFF);
        assertEquals(0xFA, one[5] & 0xFF);
        assertEquals(0x0A, one[4 + 10 + 1], "timeouts descriptor length");
        byte[] unsupported = data(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(1, 0xC0, 0, 64, false), 64));
        assertEquals(0x01, unsupported[1]);
        check(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(1, 0x9E, 0x10, 64, false), 64), 0x5, 0x24, 0);
        byte[] sa = data(h.in(n, 0, org.jtarget.core.internal.testkit.Cdbs.rsoc(2, 0x9E, 0x10, 64, false), 64));
        assertEquals(16, sa[3]);
    }

    @Test
    void readCapacity10() {
        ScsiEngine.Nexus n = ready();
        byte[] d = data(h.in(n, 0, of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 8));
        assertArrayEquals(new byte[] {0, 0, 0x07, (byte) 0xFF, 0, 0, 0x02, 0}, d);
    }

    @Test
    void reportLunsAndItsAllocationLengthRule() {
        h.addLu(300, "far", new MemoryBackstore(512, 8, false));
        ScsiEngine.Nexus n = ready();
        byte[] d = data(h.in(n, 0, reportLuns(0, 64), 64));
        assertEquals(16, java.nio.ByteBuffer.wrap(d).getInt());
        assertEquals(0L, java.nio.ByteBuffer.wrap(d, 8, 8).getLong());
        assertEquals(0x412C000000000000L, java.nio.ByteBuffer.wrap(d, 16, 8).getLong(), "flat addressing");
        check(h.in(n, 0, reportLuns(0, 15), 15), 0x5, 0x24, 0);
        check(h.in(n, 0, reportLuns(3, 64), 64), 0x5, 0x24, 0);
        assertEquals(8, data(h.in(n, 0, reportLuns(1, 64), 64)).length);
    }

    @Test
    void lunsChangedRaisesReportedLunsDataChangedUntilReportLuns() {
        ScsiEngine.Nexus n = ready();
        n.lunsChanged();
        check(h.none(n, 0, new byte[6]), 0x6, 0x3F, 0x0E);
        n.lunsChanged();
        data(h.in(n, 0, reportLuns(0, 64), 64));
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void modeSenseAndSelectDescriptorSense() {
        ScsiEngine.Nexus n = ready();
        byte[] all = data(h.in(n, 0, of(0x1A, 0, 0x3F, 0, 255, 0), 255));
        assertEquals(all.length - 1, all[0] & 0xFF);
        assertEquals(0x10, all[2], "DPOFUA, not write protected");
        assertEquals(8, all[3], "one block descriptor");
        assertEquals(0x08, all[12], "caching page first");
        assertEquals(0x04, all[14] & 0x04, "WCE");
        byte[] changeable = data(h.in(n, 0, of(0x1A, 0x08, 0x4A, 0, 255, 0), 255));
        assertEquals(0x04, changeable[6], "D_SENSE changeable");
        check(h.in(n, 0, of(0x1A, 0, 0xCA, 0, 255, 0), 255), 0x5, 0x39, 0x00);
        check(h.in(n, 0, of(0x1A, 0, 0x05, 0, 255, 0), 255), 0x5, 0x24, 0x00);

        byte[] control = data(h.in(n, 0, of(0x1A, 0x08, 0x0A, 0, 255, 0), 255));
        byte[] select = control.clone();
        select[0] = 0;
        select[2] = 0;
        select[6] |= 0x04; // D_SENSE
        good(h.out(n, 0, of(0x15, 0x10, 0, 0, select.length, 0), select));
        ScsiResponse r = h.in(n, 0, rw10(0x28, 5000, 1), 512);
        assertEquals(ScsiStatus.CHECK_CONDITION, r.status());
        assertEquals(0x72, r.sense()[0], "descriptor format");
        assertEquals(0x21, r.sense()[2]);

        byte[] tst = select.clone();
        tst[6] |= 0x20; // TST is not changeable
        ScsiResponse bad = h.out(n, 0, of(0x15, 0x10, 0, 0, tst.length, 0), tst);
        assertEquals(ScsiStatus.CHECK_CONDITION, bad.status());
        assertEquals(0x26, bad.sense()[2]);
        assertEquals(0x80 | 0x08 | 5, bad.sense()[12] & 0xFF, "SKSV, parameter list, bit 5 (sense-key specific descriptor)");
        assertEquals(6, bad.sense()[14], "field pointer");

        ScsiEngine.Nexus other = h.open("iqn.2026-11.org.test:init2");
        h.clearUa(other, 0);
        select[6] = 0x02; // D_SENSE back off
        good(h.out(n, 0, of(0x15, 0x10, 0, 0, select.length, 0), select));
        check(h.none(other, 0, new byte[6]), 0x6, 0x2A, 0x01);
    }

    @Test
    void softwareWriteProtectRejectsWrites() {
        ScsiEngine.Nexus n = ready();
        byte[] control = data(h.in(n, 0, of(0x1A, 0x08, 0x0A, 0, 255, 0), 255));
        control[0] = 0;
        control[2] = 0;
        control[8] |= 0x08; // SWP
        good(h.out(n, 0, of(0x15, 0x10, 0, 0, control.length, 0), control));
        check(h.out(n, 0, rw10(0x2A, 0, 1), new byte[512]), 0x7, 0x27, 0x00);
        assertEquals((byte) 0x90, data(h.in(n, 0, of(0x1A, 0x08, 0x0A, 0, 255, 0), 255))[2], "WP bit");
    }

    @Test
    void verifyAndCompareAndWriteReportMiscompareOffsets() {
        ScsiEngine.Nexus n = ready();
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 5);
        good(h.out(n, 0, rw10(0x2A, 20, 1), block));
        good(h.out(n, 0, rw10(0x2F, 0x02, 20, 1), block));
        byte[] other = block.clone();
        other[100] = 6;
        byte[] s = check(h.out(n, 0, rw10(0x2F, 0x02, 20, 1), other), 0xE, 0x1D, 0x00);
        assertEquals(0x80, s[0] & 0x80, "VALID");
        assertEquals(100, s[6]);
        good(h.out(n, 0, rw10(0x2F, 0x00, 20, 1), other));

        byte[] caw = new byte[1024];
        System.arraycopy(block, 0, caw, 0, 512);
        Arrays.fill(caw, 512, 1024, (byte) 9);
        byte[] cdb = rw16(0x89, 0, 20, 0);
        cdb[13] = 1;
        good(h.out(n, 0, cdb, caw));
        assertEquals(9, disk.bytes()[20 * 512]);
        byte[] s2 = check(h.out(n, 0, cdb, caw), 0xE, 0x1D, 0x00);
        assertEquals(0, s2[6]);
        check(h.out(n, 0, cdb, new byte[2048]), 0x5, 0x24, 0x00);
    }

    @Test
    void writeSameFillsTheRange() {
        ScsiEngine.Nexus n = ready();
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 3);
        good(h.out(n, 0, rw10(0x41, 30, 5), block));
        assertEquals(3, disk.bytes()[30 * 512]);
        assertEquals(3, disk.bytes()[35 * 512 - 1]);
        assertEquals(0, disk.bytes()[35 * 512]);
        check(h.out(n, 0, rw10(0x41, 30, 5), new byte[1024]), 0x5, 0x24, 0x00);
    }

    @Test
    void synchronizeCacheFlushesAndChecksRange() {
        ScsiEngine.Nexus n = ready();
        good(h.none(n, 0, rw10(0x35, 0, 0)));
        assertEquals(1, disk.flushes.get());
        check(h.none(n, 0, rw10(0x35, 2048, 1)), 0x5, 0x21, 0x00);
    }

    @Test
    void abortTaskEndsARunningCommandWithoutStatus() throws Exception {
        ScsiEngine.Nexus n = ready();
        disk.gate = new CompletableFuture<>();
        TestTask read = new TestTask(0, rw10(0x28, 0, 1), 77, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        n.submit(read);
        var tmf = n.taskManagement(TaskManagementFunction.ABORT_TASK, 0, 77).toCompletableFuture();
        assertFalse(tmf.isDone(), "waits for the backstore to return");
        assertEquals(TaskManagementResponse.FUNCTION_SUCCEEDED,
                n.taskManagement(TaskManagementFunction.QUERY_TASK, 0, 77).toCompletableFuture().get());
        disk.gate.complete(null);
        assertEquals(TaskManagementResponse.FUNCTION_COMPLETE, tmf.get(5, TimeUnit.SECONDS));
        read.abortedFuture.get(5, TimeUnit.SECONDS);
        assertFalse(read.response.isDone());
        assertEquals(1, read.completions);
        assertEquals(TaskManagementResponse.TASK_DOES_NOT_EXIST,
                n.taskManagement(TaskManagementFunction.ABORT_TASK, 0, 77).toCompletableFuture().get());
        disk.gate = null;
        good(h.none(n, 0, new byte[6]));
    }

    @Test
    void dataOutIsReleasedOnSuccessFailureAndAbort() throws Exception {
        ScsiEngine.Nexus n = ready();
        TestTask ok = new TestTask(0, rw10(0x2A, 1, 1), 11, TaskAttribute.SIMPLE, DataDirection.WRITE, 512,
                new byte[512]);
        good(Harness.run(n, ok));
        assertEquals(0, ok.given.refCnt());
        TestTask miscompare = new TestTask(0, rw10(0x2F, 0x02, 1, 1), 12, TaskAttribute.SIMPLE, DataDirection.WRITE,
                512, new byte[] {1});
        check(Harness.run(n, miscompare), 0xE, 0x1D, 0x00);
        assertEquals(0, miscompare.given.refCnt());
        // aborted while the fabric gathers Data-Out: the late buffer is released by the core
        TestTask slow = new TestTask(0, rw10(0x2A, 1, 1), 13, TaskAttribute.SIMPLE, DataDirection.WRITE, 512,
                new byte[512]);
        slow.dataStage = new CompletableFuture<>();
        n.submit(slow);
        assertEquals(TaskManagementResponse.FUNCTION_COMPLETE,
                n.taskManagement(TaskManagementFunction.ABORT_TASK, 0, 13).toCompletableFuture().get(5, TimeUnit.SECONDS));
        slow.abortedFuture.get(5, TimeUnit.SECONDS);
        io.netty.buffer.ByteBuf late = io.netty.buffer.Unpooled.directBuffer(512).writeZero(512);
        slow.dataStage.complete(late);
        assertEquals(0, late.refCnt());
        assertEquals(1, slow.completions);
        assertEquals(0, disk.writes.get() - 1, "the aborted write never reached the backstore");
    }

    @Test
    void orderedTaskWaitsForOlderTasksAndHoldsYoungerOnes() throws Exception {
        ScsiEngine.Nexus n = ready();
        disk.gate = new CompletableFuture<>();
        TestTask r1 = new TestTask(0, rw10(0x28, 0, 1), 1, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        TestTask ord = new TestTask(0, new byte[6], 2, TaskAttribute.ORDERED, DataDirection.NONE, 0, null);
        TestTask r3 = new TestTask(0, new byte[6], 3, TaskAttribute.SIMPLE, DataDirection.NONE, 0, null);
        TestTask hoq = new TestTask(0, new byte[6], 4, TaskAttribute.HEAD_OF_QUEUE, DataDirection.NONE, 0, null);
        n.submit(r1);
        n.submit(ord);
        n.submit(r3);
        n.submit(hoq);
        assertTrue(hoq.response.isDone(), "HEAD OF QUEUE runs at once");
        assertFalse(ord.response.isDone());
        assertFalse(r3.response.isDone());
        disk.gate.complete(null);
        Harness.release(r1.response.get(5, TimeUnit.SECONDS));
        assertEquals(ScsiStatus.GOOD, ord.response.get(5, TimeUnit.SECONDS).status());
        assertEquals(ScsiStatus.GOOD, r3.response.get(5, TimeUnit.SECONDS).status());
        disk.gate = null;
    }

    @Test
    void logicalUnitResetAbortsAndRaisesUnitAttentionForEveryNexus() throws Exception {
        ScsiEngine.Nexus a = ready();
        ScsiEngine.Nexus b = h.open("iqn.2026-11.org.test:init2");
        h.clearUa(b, 0);
        disk.gate = new CompletableFuture<>();
        TestTask read = new TestTask(0, rw10(0x28, 0, 1), 9, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        b.submit(read);
        var tmf = a.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET, 0, 0).toCompletableFuture();
        disk.gate.complete(null);
        assertEquals(TaskManagementResponse.FUNCTION_COMPLETE, tmf.get(5, TimeUnit.SECONDS));
        read.abortedFuture.get(5, TimeUnit.SECONDS);
        disk.gate = null;
        check(h.none(a, 0, new byte[6]), 0x6, 0x29, 0x03);
        check(h.none(b, 0, new byte[6]), 0x6, 0x29, 0x03);
        assertEquals(TaskManagementResponse.LUN_DOES_NOT_EXIST,
                a.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET, 5L << 48, 0).toCompletableFuture().get());
    }

    @Test
    void reserveConflictsForOtherNexusesUntilReleased() {
        ScsiEngine.Nexus a = ready();
        ScsiEngine.Nexus b = h.open("iqn.2026-11.org.test:init2");
        h.clearUa(b, 0);
        good(h.none(a, 0, of(0x16, 0, 0, 0, 0, 0)));
        good(h.none(a, 0, of(0x16, 0, 0, 0, 0, 0)));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.none(b, 0, of(0x16, 0, 0, 0, 0, 0)).status());
        good(h.none(b, 0, of(0x17, 0, 0, 0, 0, 0)));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT, h.in(b, 0, of(0x1A, 0, 0x3F, 0, 255, 0), 255).status());
        data(h.in(b, 0, inquiry(false, 0, 36), 36));
        good(h.none(a, 0, of(0x17, 0, 0, 0, 0, 0)));
        good(h.none(b, 0, of(0x16, 0, 0, 0, 0, 0)));
        a.close();
        b.close();
    }

    @Test
    void detachDrainsInFlightCommands() throws Exception {
        ScsiEngine.Nexus n = ready();
        disk.gate = new CompletableFuture<>();
        TestTask read = new TestTask(0, rw10(0x28, 0, 1), 5, TaskAttribute.SIMPLE, DataDirection.READ, 512, null);
        n.submit(read);
        assertEquals(disk, lu.detach());
        assertFalse(lu.drained().toCompletableFuture().isDone());
        disk.gate.complete(null);
        Harness.release(read.response.get(5, TimeUnit.SECONDS));
        assertTrue(lu.drained().toCompletableFuture().isDone());
    }

    /**
     * A READ whose buffer cannot be had (direct memory exhausted: OutOfMemoryError from the allocator) is answered
     * TASK SET FULL (SAM-5 5.3.1: the logical unit lacks resources) and leaves the task set; before, the error
     * escaped the pipeline and the command stayed in the task set for ever, so an ORDERED command behind it
     * never ran and the LU never drained.
     */
    @Test
    void aCommandThatRunsOutOfBufferMemoryGetsTaskSetFullAndTheLuGoesOn() {
        ScsiEngine.Nexus n = ready();
        disk.readError = new OutOfMemoryError("Cannot reserve 67108864 bytes of direct buffer memory");
        ScsiResponse full = h.in(n, 0, rw10(0x28, 0, 8), 4096);
        assertEquals(ScsiStatus.TASK_SET_FULL, full.status());
        disk.readError = null;
        ScsiResponse ordered = Harness.run(n, new TestTask(0, rw10(0x28, 0, 8), h.nextTag(), TaskAttribute.ORDERED,
                DataDirection.READ, 4096, null));
        assertEquals(4096, data(ordered).length);
    }
}
