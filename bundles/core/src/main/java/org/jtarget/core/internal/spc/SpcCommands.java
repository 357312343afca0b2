package org.jtarget.core.internal.spc;

import static org.jtarget.core.internal.cmd.OpcodeDescriptor.ANY_LUN;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.MEDIUM;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.NO_UA;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.RESERVATION_EXEMPT;
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

/**
 * SPC-4 primary commands served by every logical unit (LIO's spc_parse_cdb): their CDB usage data,
 * their pure parse step, and the handlers they bind.
 */
public final class SpcCommands {
    public static final int TEST_UNIT_READY = 0x00, REQUEST_SENSE = 0x03, INQUIRY = 0x12, MODE_SELECT_6 = 0x15,
            RESERVE_6 = 0x16, RELEASE_6 = 0x17, MODE_SENSE_6 = 0x1A, MODE_SELECT_10 = 0x55, RESERVE_10 = 0x56,
            RELEASE_10 = 0x57, MODE_SENSE_10 = 0x5A, PERSISTENT_RESERVE_IN = 0x5E, PERSISTENT_RESERVE_OUT = 0x5F, REPORT_LUNS = 0xA0, MAINTENANCE_IN = 0xA3;
    /** MAINTENANCE IN service actions (SPC-4 6.35, 6.36). */
    public static final int SA_REPORT_SUPPORTED_OPCODES = 0x0C, SA_REPORT_SUPPORTED_TMFS = 0x0D;

    private static final Predicate<ScsiLogicalUnit> ALWAYS = lu -> true;

    public List<OpcodeDescriptor> descriptors() {
        List<OpcodeDescriptor> all = new java.util.ArrayList<>(primaryCommands());
        all.addAll(ExtendedCopy.descriptors());
        return all;
    }

    private List<OpcodeDescriptor> primaryCommands() {
        return List.of(
                d("TEST UNIT READY", TEST_UNIT_READY, -1, usage(0x00, 0, 0, 0, 0, 0), MEDIUM,
                        SpcCommands::noData, c -> c.good()),
                d("REQUEST SENSE", REQUEST_SENSE, -1, usage(0x03, 0x01, 0, 0, 0xFF, 0),
                        NO_UA | RESERVATION_EXEMPT | ANY_LUN, (cdb, d, lu) -> dataIn(cdb, d, cdb.u8(4)),
                        Reports::requestSense),
                d("INQUIRY", INQUIRY, -1, usage(0x12, 0x01, 0xFF, 0xFF, 0xFF, 0),
                        NO_UA | RESERVATION_EXEMPT | ANY_LUN, (cdb, d, lu) -> dataIn(cdb, d, cdb.u16(3)),
                        Inquiry::execute),
                d("MODE SELECT(6)", MODE_SELECT_6, -1, usage(0x15, 0x11, 0, 0, 0xFF, 0), 0,
                        (cdb, d, lu) -> modeSelect(cdb, d, cdb.u8(4)), ModeCommands::select),
                d("RESERVE(6)", RESERVE_6, -1, usage(0x16, 0, 0, 0, 0, 0), 0, SpcCommands::noData,
                        Reports::reserve),
                d("RELEASE(6)", RELEASE_6, -1, usage(0x17, 0, 0, 0, 0, 0), RESERVATION_EXEMPT,
                        SpcCommands::noData, Reports::release),
                d("MODE SENSE(6)", MODE_SENSE_6, -1, usage(0x1A, 0x08, 0xFF, 0xFF, 0xFF, 0), 0,
                        (cdb, d, lu) -> dataIn(cdb, d, cdb.u8(4)), ModeCommands::sense),
                d("MODE SELECT(10)", MODE_SELECT_10, -1, usage(0x55, 0x11, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0), 0,
                        (cdb, d, lu) -> modeSelect(cdb, d, cdb.u16(7)), ModeCommands::select),
                d("RESERVE(10)", RESERVE_10, -1, usage(0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0,
                        SpcCommands::noData, Reports::reserve),
                d("RELEASE(10)", RELEASE_10, -1, usage(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0), RESERVATION_EXEMPT,
                        SpcCommands::noData, Reports::release),
                d("MODE SENSE(10)", MODE_SENSE_10, -1, usage(0x5A, 0x18, 0xFF, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0), 0,
                        (cdb, d, lu) -> dataIn(cdb, d, cdb.u16(7)), ModeCommands::sense),
                d("REPORT LUNS", REPORT_LUNS, -1, usage(0xA0, 0, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0),
                        NO_UA | RESERVATION_EXEMPT | ANY_LUN, SpcCommands::reportLuns, Reports::reportLuns),
                d("REPORT SUPPORTED OPERATION CODES", MAINTENANCE_IN, SA_REPORT_SUPPORTED_OPCODES,
                        usage(0xA3, 0x0C, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), RESERVATION_EXEMPT,
                        (cdb, d, lu) -> dataIn(cdb, d, cdb.u32(6)), OpcodeReports::supportedOpcodes),
                d("REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS", MAINTENANCE_IN, SA_REPORT_SUPPORTED_TMFS,
                        usage(0xA3, 0x0D, 0x80, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), RESERVATION_EXEMPT,
                        SpcCommands::reportTmfs, OpcodeReports::supportedTmfs),
                prIn("PERSISTENT RESERVE IN (READ KEYS)", 0),
                prIn("PERSISTENT RESERVE IN (READ RESERVATION)", 1),
                prIn("PERSISTENT RESERVE IN (REPORT CAPABILITIES)", 2),
                prIn("PERSISTENT RESERVE IN (READ FULL STATUS)", 3),
                prOut("PERSISTENT RESERVE OUT (REGISTER)", 0),
                prOut("PERSISTENT RESERVE OUT (RESERVE)", 1),
                prOut("PERSISTENT RESERVE OUT (RELEASE)", 2),
                prOut("PERSISTENT RESERVE OUT (CLEAR)", 3),
                prOut("PERSISTENT RESERVE OUT (PREEMPT)", 4),
                prOut("PERSISTENT RESERVE OUT (PREEMPT AND ABORT)", 5),
                prOut("PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)", 6),
                prOut("PERSISTENT RESERVE OUT (REGISTER AND MOVE)", 7));
    }

    /** SPC-4 6.15: ALLOCATION LENGTH in bytes 7-8. */
    private static OpcodeDescriptor prIn(String name, int sa) {
        return d(name, PERSISTENT_RESERVE_IN, sa, usage(0x5E, sa, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0), 0,
                (cdb, d, lu) -> dataIn(cdb, d, cdb.u16(7)), org.jtarget.core.internal.pr.ReserveIn::execute);
    }

    /** SPC-4 6.16: SCOPE/TYPE in byte 2, PARAMETER LIST LENGTH in bytes 5-8. */
    private static OpcodeDescriptor prOut(String name, int sa) {
        return d(name, PERSISTENT_RESERVE_OUT, sa, usage(0x5F, sa, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0), 0,
                (cdb, d, lu) -> ParsedCommand.control(cdb, d, (int) Math.min(cdb.u32(5), Integer.MAX_VALUE), 0),
                org.jtarget.core.internal.pr.ReserveOut::execute);
    }

    private static OpcodeDescriptor d(String name, int opcode, int sa, byte[] usage, int flags, CdbParser parser,
                                      CommandHandler handler) {
        return new OpcodeDescriptor(name, opcode, sa, usage, flags, parser, handler, ALWAYS);
    }

    static ParsedCommand noData(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        return ParsedCommand.control(cdb, d, 0, 0);
    }

    static ParsedCommand dataIn(Cdb cdb, OpcodeDescriptor d, long allocationLength) {
        return ParsedCommand.control(cdb, d, 0, (int) Math.min(allocationLength, Integer.MAX_VALUE));
    }

    /** SPC-4 6.9/6.10: PF must be 1 (page format), SP 0 (no saved pages). */
    static ParsedCommand modeSelect(Cdb cdb, OpcodeDescriptor d, int parameterListLength) {
        if (!cdb.bit(1, 4)) {
            throw Sense.invalidCdbField(1, 4).exception();
        }
        if (cdb.bit(1, 0)) {
            throw Sense.invalidCdbField(1, 0).exception();
        }
        return ParsedCommand.control(cdb, d, parameterListLength, 0);
    }

    /** SPC-4 6.33: SELECT REPORT 00h/01h/02h; ALLOCATION LENGTH at least 16. */
    static ParsedCommand reportLuns(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        int select = cdb.u8(2);
        if (select > 2) {
            throw Sense.invalidCdbField(2, -1).exception();
        }
        long alloc = cdb.u32(6);
        if (alloc < 16) {
            throw Sense.invalidCdbField(6, -1).exception();
        }
        return dataIn(cdb, d, alloc);
    }

    /** SPC-4 6.36: ALLOCATION LENGTH at least 4. */
    static ParsedCommand reportTmfs(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        long alloc = cdb.u32(6);
        if (alloc < 4) {
            throw Sense.invalidCdbField(6, -1).exception();
        }
        return dataIn(cdb, d, alloc);
    }
}
