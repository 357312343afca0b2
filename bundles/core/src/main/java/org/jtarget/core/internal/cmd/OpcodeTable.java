package org.jtarget.core.internal.cmd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;

/**
 * Every supported command, SBC first then SPC (unknown opcodes fall from one to the next, then to
 * INVALID COMMAND OPERATION CODE). Drives dispatch, CDB reserved-bit checks and REPORT SUPPORTED
 * OPERATION CODES, so what is reported is exactly what is served.
 */
public final class OpcodeTable {
    /** Control byte bits the device server accepts: none (NACA and LINK unsupported, SAM-5 5.2). */
    private static final int CONTROL_MASK = 0x00;

    private final List<OpcodeDescriptor> all;
    private final OpcodeDescriptor[] plain = new OpcodeDescriptor[256];
    private final boolean[] hasServiceActions = new boolean[256];
    private final OpcodeDescriptor[][] withSa = new OpcodeDescriptor[256][];

    @SafeVarargs
    public OpcodeTable(List<OpcodeDescriptor>... families) {
        List<OpcodeDescriptor> list = new ArrayList<>();
        for (List<OpcodeDescriptor> family : families) {
            for (OpcodeDescriptor d : family) {
                if (d.serviceAction() < 0) {
                    if (plain[d.opcode()] != null || hasServiceActions[d.opcode()]) {
                        continue; // an earlier family (SBC before SPC) already serves it
                    }
                    plain[d.opcode()] = d;
                } else {
                    if (plain[d.opcode()] != null) {
                        throw new IllegalArgumentException("opcode 0x" + Integer.toHexString(d.opcode())
                                + " has both plain and service-action entries");
                    }
                    hasServiceActions[d.opcode()] = true;
                    if (withSa[d.opcode()] == null) {
                        withSa[d.opcode()] = new OpcodeDescriptor[32];
                    }
                    if (withSa[d.opcode()][d.serviceAction()] != null) {
                        continue;
                    }
                    withSa[d.opcode()][d.serviceAction()] = d;
                }
                list.add(d);
            }
        }
        list.sort((a, b) -> a.opcode() != b.opcode() ? Integer.compare(a.opcode(), b.opcode())
                : Integer.compare(a.serviceAction(), b.serviceAction()));
        this.all = Collections.unmodifiableList(list);
    }

    /** Every entry, by opcode then service action (whether or not a given LU offers it). */
    public List<OpcodeDescriptor> all() {
        return all;
    }

    /** The entries {@code lu} offers, in table order (REPORT SUPPORTED OPERATION CODES, all commands). */
    public List<OpcodeDescriptor> available(ScsiLogicalUnit lu) {
        List<OpcodeDescriptor> out = new ArrayList<>(all.size());
        for (OpcodeDescriptor d : all) {
            if (d.available().test(lu)) {
                out.add(d);
            }
        }
        return out;
    }

    public boolean usesServiceAction(int opcode) {
        return hasServiceActions[opcode & 0xFF];
    }

    /** The entry for (opcode, service action), or null; ignores {@code serviceAction} for plain opcodes. */
    public OpcodeDescriptor find(int opcode, int serviceAction) {
        opcode &= 0xFF;
        if (hasServiceActions[opcode]) {
            return serviceAction >= 0 && serviceAction < 32 ? withSa[opcode][serviceAction] : null;
        }
        return plain[opcode];
    }

    /**
     * Looks the CDB up and checks it against the entry's usage mask, without parsing fields.
     *
     * @throws org.jtarget.core.internal.sense.ScsiException INVALID COMMAND OPERATION CODE, or INVALID
     *     FIELD IN CDB for an unknown service action or a reserved bit set
     */
    public OpcodeDescriptor lookup(Cdb cdb, ScsiLogicalUnit lu) {
        int op = cdb.opcode();
        OpcodeDescriptor d;
        if (hasServiceActions[op]) {
            d = withSa[op][cdb.serviceAction()];
            if (d == null || (lu != null && !d.available().test(lu))) {
                throw Sense.invalidCdbField(1, 4).exception(); // SERVICE ACTION (SPC-4 4.2.5.1)
            }
        } else {
            d = plain[op];
            if (d == null || (lu != null && !d.available().test(lu))) {
                throw Sense.of(SenseReason.INVALID_COMMAND_OPERATION_CODE).exception();
            }
        }
        checkReservedBits(cdb, d);
        return d;
    }

    /** INVALID FIELD IN CDB, pointing at the first reserved bit set (SPC-4 4.5.2.4.2). */
    static void checkReservedBits(Cdb cdb, OpcodeDescriptor d) {
        byte[] usage = d.usage();
        int last = usage.length - 1;
        for (int i = 1; i <= last; i++) {
            int allowed = i == last ? CONTROL_MASK : usage[i] & 0xFF;
            if (i == 1 && d.serviceAction() >= 0) {
                allowed |= 0x1F; // the SERVICE ACTION field itself, already matched
            }
            int bad = cdb.u8(i) & ~allowed;
            if (bad != 0) {
                throw Sense.invalidCdbField(i, 31 - Integer.numberOfLeadingZeros(bad)).exception();
            }
        }
    }

    /** The parse step: lookup, reserved-bit check, then the family's field decoding. */
    public ParsedCommand parse(Cdb cdb, ScsiLogicalUnit lu) {
        OpcodeDescriptor d = lookup(cdb, lu);
        return d.parser().parse(cdb, d, lu);
    }
}
