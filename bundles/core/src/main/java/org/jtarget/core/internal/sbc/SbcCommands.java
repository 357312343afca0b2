package org.jtarget.core.internal.sbc;

import static org.jtarget.core.internal.cmd.OpcodeDescriptor.EXACT_DATA_OUT;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.MEDIUM;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.WRITE;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.usage;

import java.util.List;
import java.util.function.Predicate;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.CdbParser;
import org.jtarget.core.internal.cmd.CommandHandler;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.scsi.SenseReason;

/**
 * SBC-3 block commands (LIO's sbc_parse_cdb): CDB usage data, the pure parse step that decodes LBA and
 * length for every CDB size and checks the range once, and the handler each binds.
 */
public final class SbcCommands {
    public static final int READ_6 = 0x08, WRITE_6 = 0x0A, START_STOP_UNIT = 0x1B, PREVENT_ALLOW = 0x1E,
            READ_CAPACITY_10 = 0x25, READ_10 = 0x28, WRITE_10 = 0x2A, WRITE_VERIFY_10 = 0x2E, VERIFY_10 = 0x2F,
            PRE_FETCH_10 = 0x34, SYNCHRONIZE_CACHE_10 = 0x35, READ_DEFECT_DATA_10 = 0x37, READ_DEFECT_DATA_12 = 0xB7, WRITE_SAME_10 = 0x41, UNMAP = 0x42, READ_16 = 0x88,
            COMPARE_AND_WRITE = 0x89, WRITE_16 = 0x8A, ORWRITE_16 = 0x8B, WRITE_VERIFY_16 = 0x8E, VERIFY_16 = 0x8F,
            PRE_FETCH_16 = 0x90, SYNCHRONIZE_CACHE_16 = 0x91, WRITE_SAME_16 = 0x93, WRITE_ATOMIC_16 = 0x9C, SERVICE_ACTION_IN_16 = 0x9E,
            READ_12 = 0xA8, WRITE_12 = 0xAA, WRITE_VERIFY_12 = 0xAE, VERIFY_12 = 0xAF;
    /** SERVICE ACTION IN(16) service actions (SBC-3 5.16, 5.8). */
    public static final int SA_READ_CAPACITY_16 = 0x10, SA_GET_LBA_STATUS = 0x12;

    private static final Predicate<ScsiLogicalUnit> ALWAYS = lu -> true;
    private static final Predicate<ScsiLogicalUnit> THIN = lu -> lu == null || lu.thinProvisioned();
    /** WRITE ATOMIC only where the backstore keeps such writes whole across a crash (BackstoreLimits). */
    private static final Predicate<ScsiLogicalUnit> ATOMIC = lu -> lu == null || Inquiry.maxAtomicBlocks(lu) > 0;

    public List<OpcodeDescriptor> descriptors() {
        List<OpcodeDescriptor> all = new java.util.ArrayList<>(blockCommands());
        all.addAll(Sanitize.descriptors());
        return all;
    }

    private List<OpcodeDescriptor> blockCommands() {
        return List.of(
                d("READ(6)", READ_6, -1, usage(0x08, 0x1F, 0xFF, 0xFF, 0xFF, 0), MEDIUM,
                        SbcCommands::readWrite, ReadWrite::read),
                d("WRITE(6)", WRITE_6, -1, usage(0x0A, 0x1F, 0xFF, 0xFF, 0xFF, 0), MEDIUM | WRITE,
                        SbcCommands::readWrite, ReadWrite::write),
                d("START STOP UNIT", START_STOP_UNIT, -1, usage(0x1B, 0x01, 0, 0x0F, 0xF7, 0), 0,
                        SbcCommands::noData, Maintenance::startStop),
                d("PREVENT ALLOW MEDIUM REMOVAL", PREVENT_ALLOW, -1, usage(0x1E, 0, 0, 0, 0x03, 0), 0,
                        SbcCommands::noData, Maintenance::preventAllow),
                d("READ CAPACITY(10)", READ_CAPACITY_10, -1, usage(0x25, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x01, 0),
                        MEDIUM, SbcCommands::readCapacity10, Maintenance::readCapacity10),
                d("READ(10)", READ_10, -1, usage(0x28, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0), MEDIUM,
                        SbcCommands::readWrite, ReadWrite::read),
                d("WRITE(10)", WRITE_10, -1, usage(0x2A, 0xFA, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0),
                        MEDIUM | WRITE, SbcCommands::readWrite, ReadWrite::write),
                d("WRITE AND VERIFY(10)", WRITE_VERIFY_10, -1,
                        usage(0x2E, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0), MEDIUM | WRITE,
                        SbcCommands::writeVerify, ReadWrite::write),
                d("VERIFY(10)", VERIFY_10, -1, usage(0x2F, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0), MEDIUM,
                        SbcCommands::verify, ReadWrite::verify),
                d("PRE-FETCH(10)", PRE_FETCH_10, -1, usage(0x34, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0),
                        MEDIUM, SbcCommands::rangeOnly, Maintenance::preFetch),
                d("SYNCHRONIZE CACHE(10)", SYNCHRONIZE_CACHE_10, -1,
                        // byte 1: IMMED, and bit 2 (SYNC_NV, obsolete in SBC-3 5.22: ignored)
                        usage(0x35, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0), MEDIUM,
                        SbcCommands::rangeOnly, Maintenance::synchronizeCache),
                d("READ DEFECT DATA(10)", READ_DEFECT_DATA_10, -1, usage(0x37, 0, 0x1F, 0, 0, 0, 0, 0xFF, 0xFF, 0),
                        0, (cdb, d, lu) -> ParsedCommand.control(cdb, d, 0, cdb.u16(7)), Maintenance::readDefectData),
                d("READ DEFECT DATA(12)", READ_DEFECT_DATA_12, -1, usage(0xB7, 0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0, 0), 0, (cdb, d, lu) -> ParsedCommand.control(cdb, d, 0,
                        (int) Math.min(cdb.u32(6), Integer.MAX_VALUE)), Maintenance::readDefectData),
                d("WRITE SAME(10)", WRITE_SAME_10, -1, usage(0x41, 0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0),
                        MEDIUM | WRITE | EXACT_DATA_OUT, SbcCommands::writeSame, Provisioning::writeSame),
                new OpcodeDescriptor("UNMAP", UNMAP, -1, usage(0x42, 0x01, 0, 0, 0, 0, 0x1F, 0xFF, 0xFF, 0),
                        MEDIUM | WRITE, SbcCommands::unmap, Provisioning::unmap, THIN),
                d("READ(16)", READ_16, -1, usage(0x88, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0x1F, 0), MEDIUM, SbcCommands::readWrite, ReadWrite::read),
                d("COMPARE AND WRITE", COMPARE_AND_WRITE, -1, usage(0x89, 0xFA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0, 0, 0, 0xFF, 0x1F, 0), MEDIUM | WRITE | EXACT_DATA_OUT,
                        SbcCommands::compareAndWrite, ReadWrite::compareAndWrite),
                d("WRITE(16)", WRITE_16, -1, usage(0x8A, 0xFA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE, SbcCommands::readWrite, ReadWrite::write),
                d("ORWRITE(16)", ORWRITE_16, -1, usage(0x8B, 0xFA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE, SbcCommands::readWrite, ReadWrite::orWrite),
                d("WRITE AND VERIFY(16)", WRITE_VERIFY_16, -1, usage(0x8E, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE, SbcCommands::writeVerify,
                        ReadWrite::write),
                d("VERIFY(16)", VERIFY_16, -1, usage(0x8F, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM, SbcCommands::verify, ReadWrite::verify),
                d("PRE-FETCH(16)", PRE_FETCH_16, -1, usage(0x90, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM, SbcCommands::rangeOnly, Maintenance::preFetch),
                d("SYNCHRONIZE CACHE(16)", SYNCHRONIZE_CACHE_16, -1, usage(0x91, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM, SbcCommands::rangeOnly,
                        Maintenance::synchronizeCache),
                d("WRITE SAME(16)", WRITE_SAME_16, -1, usage(0x93, 0xF9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE | EXACT_DATA_OUT,
                        SbcCommands::writeSame, Provisioning::writeSame),
                new OpcodeDescriptor("WRITE ATOMIC(16)", WRITE_ATOMIC_16, -1, usage(0x9C, 0xF8, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE,
                        SbcCommands::writeAtomic, ReadWrite::writeAtomic, ATOMIC),
                d("READ CAPACITY(16)", SERVICE_ACTION_IN_16, SA_READ_CAPACITY_16, usage(0x9E, 0x10, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0), MEDIUM,
                        SbcCommands::readCapacity16, Maintenance::readCapacity16),
                new OpcodeDescriptor("GET LBA STATUS", SERVICE_ACTION_IN_16, SA_GET_LBA_STATUS, usage(0x9E, 0x12, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), MEDIUM,
                        SbcCommands::getLbaStatus, Provisioning::getLbaStatus, THIN),
                d("READ(12)", READ_12, -1, usage(0xA8, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0),
                        MEDIUM, SbcCommands::readWrite, ReadWrite::read),
                d("WRITE(12)", WRITE_12, -1, usage(0xAA, 0xFA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0),
                        MEDIUM | WRITE, SbcCommands::readWrite, ReadWrite::write),
                d("WRITE AND VERIFY(12)", WRITE_VERIFY_12, -1, usage(0xAE, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0x1F, 0), MEDIUM | WRITE, SbcCommands::writeVerify, ReadWrite::write),
                d("VERIFY(12)", VERIFY_12, -1, usage(0xAF, 0xF6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0),
                        MEDIUM, SbcCommands::verify, ReadWrite::verify));
    }

    private static OpcodeDescriptor d(String name, int opcode, int sa, byte[] usage, int flags, CdbParser parser,
                                      CommandHandler handler) {
        return new OpcodeDescriptor(name, opcode, sa, usage, flags, parser, handler, ALWAYS);
    }

    // ---- field decoding (SBC-3 5.x; LIO transport_lba_21/32/64, transport_get_sectors_6/10/12/16) ----

    /** LOGICAL BLOCK ADDRESS by CDB size. */
    static long lba(Cdb cdb) {
        return switch (cdbSize(cdb.opcode())) {
            case 6 -> cdb.u24(1) & 0x1FFFFF;
            case 10, 12 -> cdb.u32(2);
            default -> cdb.u64(2);
        };
    }

    /** TRANSFER LENGTH (or verification / number of blocks) by CDB size; READ/WRITE(6) 0 means 256. */
    static long transferLength(Cdb cdb) {
        return switch (cdbSize(cdb.opcode())) {
            case 6 -> cdb.u8(4) == 0 ? 256 : cdb.u8(4);
            case 10 -> cdb.u16(7);
            case 12 -> cdb.u32(6);
            default -> cdb.u32(10);
        };
    }

    /** Offset of the length field, for the sense field pointer. */
    static int transferLengthOffset(Cdb cdb) {
        return switch (cdbSize(cdb.opcode())) {
            case 6 -> 4;
            case 10 -> 7;
            case 12 -> 6;
            default -> 10;
        };
    }

    /** CDB size from the group code (SPC-4 4.2.5.1, table 3). */
    static int cdbSize(int opcode) {
        return switch (opcode >>> 5) {
            case 0 -> 6;
            case 1, 2 -> 10;
            case 4 -> 16;
            case 5 -> 12;
            default -> throw new IllegalArgumentException("opcode: 0x" + Integer.toHexString(opcode)
                    + " (expected: a 6-, 10-, 12- or 16-byte CDB group)");
        };
    }

    /** LOGICAL BLOCK ADDRESS OUT OF RANGE unless [lba, lba+blocks) lies on the medium (SBC-3 4.5). */
    static void checkRange(ScsiLogicalUnit lu, long lba, long blocks) {
        long count = lu.blockCount();
        if (lba < 0 || blocks < 0 || lba > count || blocks > count - lba) {
            throw Sense.of(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE).exception();
        }
    }

    /** INVALID FIELD IN CDB when a transfer exceeds the MAXIMUM TRANSFER LENGTH of VPD B0h. */
    static void checkTransfer(Cdb cdb, ScsiLogicalUnit lu, long blocks) {
        if (blocks > Inquiry.maxTransferBlocks(lu)) {
            throw Sense.invalidCdbField(transferLengthOffset(cdb), -1).exception();
        }
    }

    /** RDPROTECT/WRPROTECT/VRPROTECT/ORPROTECT (byte 1 bits 7-5): no protection information here. */
    static void checkProtect(Cdb cdb) {
        if ((cdb.u8(1) & 0xE0) != 0) {
            throw Sense.invalidCdbField(1, 7).exception();
        }
    }

    static ParsedCommand readWrite(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        if (cdbSize(cdb.opcode()) != 6) {
            checkProtect(cdb);
        }
        long lba = lba(cdb);
        long blocks = transferLength(cdb);
        checkRange(lu, lba, blocks);
        checkTransfer(cdb, lu, blocks);
        int bytes = (int) (blocks * lu.blockSize());
        boolean write = d.hasFlag(WRITE);
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, write ? bytes : 0, write ? 0 : bytes);
    }

    /**
     * SBC-4 5.49 WRITE ATOMIC(16): TRANSFER LENGTH in bytes 12-13, at most the MAXIMUM ATOMIC TRANSFER
     * LENGTH; ATOMIC BOUNDARY (bytes 10-11) must be zero (no boundary support).
     */
    static ParsedCommand writeAtomic(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        checkProtect(cdb);
        long lba = cdb.u64(2);
        int blocks = cdb.u16(12);
        checkRange(lu, lba, blocks);
        if (blocks > Inquiry.maxAtomicBlocks(lu)) { // MAXIMUM ATOMIC TRANSFER LENGTH
            throw Sense.invalidCdbField(12, -1).exception();
        }
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, blocks * lu.blockSize(), 0);
    }

    /** WRITE AND VERIFY (SBC-3 5.38-5.40): BYTCHK 00b or 01b; the data is written either way. */
    static ParsedCommand writeVerify(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        if (((cdb.u8(1) >>> 1) & 0x03) > 1) {
            throw Sense.invalidCdbField(1, 2).exception();
        }
        return readWrite(cdb, d, lu);
    }

    /** VERIFY (SBC-3 5.33-5.35): BYTCHK 00b medium verify, 01b compare all, 11b compare one block to each. */
    static ParsedCommand verify(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        checkProtect(cdb);
        int bytchk = (cdb.u8(1) >>> 1) & 0x03;
        if (bytchk == 2) {
            throw Sense.invalidCdbField(1, 2).exception();
        }
        long lba = lba(cdb);
        long blocks = transferLength(cdb);
        checkRange(lu, lba, blocks);
        int dataOut = 0;
        if (bytchk == 1) {
            checkTransfer(cdb, lu, blocks);
            dataOut = (int) (blocks * lu.blockSize());
        } else if (bytchk == 3 && blocks > 0) {
            dataOut = lu.blockSize();
        }
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, dataOut, 0);
    }

    /** SYNCHRONIZE CACHE and PRE-FETCH: a range (0 blocks: through the last LBA), no data. */
    static ParsedCommand rangeOnly(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        long lba = lba(cdb);
        long blocks = transferLength(cdb);
        checkRange(lu, lba, blocks);
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, 0, 0);
    }

    static ParsedCommand noData(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        return ParsedCommand.control(cdb, d, 0, 0);
    }

    /** SBC-3 5.15: LOGICAL BLOCK ADDRESS must be zero unless PMI (obsolete) is set. */
    static ParsedCommand readCapacity10(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        if (!cdb.bit(8, 0) && cdb.u32(2) != 0) {
            throw Sense.invalidCdbField(2, -1).exception();
        }
        return ParsedCommand.control(cdb, d, 0, 8);
    }

    static ParsedCommand readCapacity16(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        if (!cdb.bit(14, 0) && cdb.u64(2) != 0) {
            throw Sense.invalidCdbField(2, -1).exception();
        }
        return ParsedCommand.control(cdb, d, 0, (int) Math.min(cdb.u32(10), Integer.MAX_VALUE));
    }

    /** SBC-3 5.8: STARTING LBA must be on the medium. */
    static ParsedCommand getLbaStatus(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        long lba = cdb.u64(2);
        if (lba < 0 || lba >= lu.blockCount()) { // unsigned: LBAs at and above 2^63 too
            throw Sense.of(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE).exception();
        }
        return new ParsedCommand(cdb, d, d.handler(), lba, 0, 0, (int) Math.min(cdb.u32(10), Integer.MAX_VALUE));
    }

    /** SBC-3 5.2: NUMBER OF LOGICAL BLOCKS up to the MAXIMUM COMPARE AND WRITE LENGTH; Data-Out twice that. */
    static ParsedCommand compareAndWrite(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        checkProtect(cdb);
        long lba = cdb.u64(2);
        int blocks = cdb.u8(13);
        if (blocks > Inquiry.MAX_COMPARE_AND_WRITE_BLOCKS) {
            throw Sense.invalidCdbField(13, -1).exception();
        }
        checkRange(lu, lba, blocks);
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, 2 * blocks * lu.blockSize(), 0);
    }

    /**
     * SBC-3 5.41/5.42: one block of Data-Out (none with NDOB), 0 blocks means through the last LBA,
     * ANCHOR unsupported, UNMAP only with thin provisioning.
     */
    static ParsedCommand writeSame(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        checkProtect(cdb);
        if (cdb.bit(1, 4)) { // ANCHOR: ANC_SUP is 0
            throw Sense.invalidCdbField(1, 4).exception();
        }
        boolean unmap = cdb.bit(1, 3);
        if (unmap && !lu.thinProvisioned()) {
            throw Sense.invalidCdbField(1, 3).exception();
        }
        boolean ndob = cdb.opcode() == WRITE_SAME_16 && cdb.bit(1, 0);
        long lba = lba(cdb);
        long blocks = transferLength(cdb);
        checkRange(lu, lba, blocks);
        if (blocks == 0) {
            blocks = lu.blockCount() - lba;
        }
        if (blocks > Inquiry.MAX_WRITE_SAME_BLOCKS) {
            throw Sense.invalidCdbField(transferLengthOffset(cdb), -1).exception();
        }
        return new ParsedCommand(cdb, d, d.handler(), lba, blocks, ndob ? 0 : lu.blockSize(), 0);
    }

    /** SBC-3 5.28: the parameter list (block descriptors) arrives as Data-Out. */
    static ParsedCommand unmap(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        if (cdb.bit(1, 0)) { // ANCHOR
            throw Sense.invalidCdbField(1, 0).exception();
        }
        return ParsedCommand.control(cdb, d, cdb.u16(7), 0);
    }
}
