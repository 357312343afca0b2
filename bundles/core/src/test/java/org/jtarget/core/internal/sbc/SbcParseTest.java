package org.jtarget.core.internal.sbc;

import static org.jtarget.core.internal.testkit.Cdbs.of;
import static org.jtarget.core.internal.testkit.Cdbs.rw10;
import static org.jtarget.core.internal.testkit.Cdbs.rw12;
import static org.jtarget.core.internal.testkit.Cdbs.rw16;
import static org.jtarget.core.internal.testkit.Cdbs.rw6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.OpcodeTable;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.ScsiException;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.core.internal.spc.SpcCommands;
import org.jtarget.core.internal.testkit.MemoryBackstore;
import org.jtarget.scsi.SenseReason;
import org.junit.jupiter.api.Test;

/** The pure parse step: LBA/length decoding per CDB size, range and field checks, dispatch fall-through. */
class SbcParseTest {
    static final long BLOCKS = 1000;
    final OpcodeTable table = new OpcodeTable(new SbcCommands().descriptors(), new SpcCommands().descriptors());
    final ScsiLogicalUnit lu = new ScsiLogicalUnit("lu", "serial");
    final ScsiLogicalUnit thinLu = new ScsiLogicalUnit("thin", "serial2");

    SbcParseTest() {
        lu.attach(new MemoryBackstore(512, BLOCKS, false));
        thinLu.attach(new MemoryBackstore(512, BLOCKS, true));
    }

    ParsedCommand parse(byte[] cdb) {
        return table.parse(new Cdb(cdb), lu);
    }

    Sense fails(byte[] cdb) {
        return assertThrows(ScsiException.class, () -> parse(cdb)).sense();
    }

    @Test
    void read6DecodesTwentyOneBitLbaAndZeroMeans256() {
        ParsedCommand p = parse(rw6(0x08, 0x0003E7 - 256, 0));
        assertEquals(743, p.lba());
        assertEquals(256, p.blocks());
        assertEquals(256 * 512, p.allocationLength());
        assertEquals(0, p.dataOutLength());
        // the three high bits of byte 1 are reserved in READ(6)
        Sense s = fails(of(0x08, 0x20, 0, 0, 1, 0));
        assertEquals(SenseReason.INVALID_FIELD_IN_CDB, s.reason());
        assertEquals(1, s.fieldPointer());
        assertEquals(5, s.bitPointer());
    }

    @Test
    void write10DecodesLbaAndLengthAndAsksForDataOut() {
        ParsedCommand p = parse(rw10(0x2A, 0x08, 998, 2));
        assertEquals(998, p.lba());
        assertEquals(2, p.blocks());
        assertEquals(1024, p.dataOutLength());
        assertEquals(0, p.allocationLength());
        assertEquals(0, parse(rw10(0x2A, 0, 0, 0)).dataOutLength(), "TRANSFER LENGTH 0 moves nothing");
    }

    @Test
    void read12And16DecodeWideFields() {
        ParsedCommand p12 = parse(rw12(0xA8, 10, 20));
        assertEquals(10, p12.lba());
        assertEquals(20, p12.blocks());
        ParsedCommand p16 = parse(rw16(0x88, 0, 999, 1));
        assertEquals(999, p16.lba());
        assertEquals(1, p16.blocks());
    }

    @Test
    void rangeChecksAllowZeroBlocksAtTheEnd() {
        parse(rw10(0x28, BLOCKS, 0));
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, fails(rw10(0x28, BLOCKS, 1)).reason());
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, fails(rw10(0x28, BLOCKS + 1, 0)).reason());
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, fails(rw10(0x28, BLOCKS - 1, 2)).reason());
        // LBA + length wrapping past 2^64 is still out of range
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, fails(rw16(0x88, 0, -1L, 2)).reason());
        assertEquals(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE,
                fails(rw16(0x88, 0, 0x8000000000000000L, 1)).reason());
    }

    @Test
    void protectionFieldsAreInvalid() {
        for (int op : new int[] {0x28, 0x2A, 0x2F}) {
            Sense s = fails(rw10(op, 0x20, 0, 1));
            assertEquals(SenseReason.INVALID_FIELD_IN_CDB, s.reason());
            assertEquals(1, s.fieldPointer());
        }
    }

    @Test
    void transferLongerThanMaximumIsInvalidField() {
        ScsiLogicalUnit big = new ScsiLogicalUnit("big", "s");
        big.attach(new HugeBackstore());
        long max = Inquiry.MAX_TRANSFER_BYTES / 512;
        assertEquals(max, table.parse(new Cdb(rw12(0xA8, 0, max)), big).blocks());
        Sense s = assertThrows(ScsiException.class, () -> table.parse(new Cdb(rw12(0xA8, 0, max + 1)), big)).sense();
        assertEquals(SenseReason.INVALID_FIELD_IN_CDB, s.reason());
        assertEquals(6, s.fieldPointer());
    }

    /** Capacity without storage, for limits that a real test double could not hold in memory. */
    static final class HugeBackstore implements org.jtarget.spi.backstore.Backstore {
        @Override
        public int blockSize() {
            return 512;
        }

        @Override
        public long blockCount() {
            return 1L << 40;
        }

        @Override
        public boolean writeCacheEnabled() {
            return false;
        }

        @Override
        public String productId() {
            return "huge";
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> read(long lba, int blocks, io.netty.buffer.ByteBuf dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> write(long lba, io.netty.buffer.ByteBuf src, boolean fua) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> flush() {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> close() {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
    }

    @Test
    void verifyByteCheckSelectsDataOut() {
        assertEquals(0, parse(rw10(0x2F, 0x00, 0, 4)).dataOutLength());
        assertEquals(4 * 512, parse(rw10(0x2F, 0x02, 0, 4)).dataOutLength());
        assertEquals(512, parse(rw10(0x2F, 0x06, 0, 4)).dataOutLength());
        assertEquals(1, fails(rw10(0x2F, 0x04, 0, 4)).fieldPointer(), "BYTCHK 10b is reserved");
    }

    @Test
    void compareAndWriteLimitsBlocksAndDoublesDataOut() {
        byte[] cdb = rw16(0x89, 0, 5, 0);
        cdb[13] = 1;
        assertEquals(1024, parse(cdb).dataOutLength());
        cdb[13] = 2;
        assertEquals(13, fails(cdb).fieldPointer());
    }

    @Test
    void writeSameZeroBlocksMeansToTheEnd() {
        ParsedCommand p = parse(rw10(0x41, 0, 900, 0));
        assertEquals(100, p.blocks());
        assertEquals(512, p.dataOutLength());
        Sense unmapOnThick = fails(rw10(0x41, 0x08, 0, 1));
        assertEquals(3, unmapOnThick.bitPointer());
        assertEquals(100, table.parse(new Cdb(rw10(0x41, 0x08, 900, 0)), thinLu).blocks());
        assertEquals(2, fails(rw10(0x41, 0x04, 0, 1)).bitPointer(), "PBDATA is not supported");
    }

    @Test
    void unknownOpcodeFallsThroughToInvalidOperationCode() {
        assertEquals(SenseReason.INVALID_COMMAND_OPERATION_CODE, fails(of(0xC0, 0, 0, 0, 0, 0)).reason());
        // UNMAP only exists with thin provisioning
        assertEquals(SenseReason.INVALID_COMMAND_OPERATION_CODE, fails(of(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0)).reason());
        assertSame(SbcCommands.class, SbcCommands.class);
        table.parse(new Cdb(of(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0)), thinLu);
    }

    @Test
    void unknownServiceActionPointsAtTheField() {
        Sense s = fails(rw16(0x9E, 0x1F, 0, 0));
        assertEquals(SenseReason.INVALID_FIELD_IN_CDB, s.reason());
        assertEquals(1, s.fieldPointer());
        assertEquals(SenseReason.INVALID_FIELD_IN_CDB, fails(rw16(0x9E, 0x12, 0, 0)).reason(),
                "GET LBA STATUS needs thin provisioning");
    }

    @Test
    void controlByteNacaIsRejected() {
        byte[] cdb = rw10(0x28, 0, 0, 1);
        cdb[9] = 0x04;
        Sense s = fails(cdb);
        assertEquals(9, s.fieldPointer());
        assertEquals(2, s.bitPointer());
    }

    @Test
    void readCapacity16AllocationLengthAndObsoleteLba() {
        assertEquals(32, parse(rw16(0x9E, 0x10, 0, 32)).allocationLength());
        assertEquals(2, fails(rw16(0x9E, 0x10, 5, 32)).fieldPointer());
    }
}
