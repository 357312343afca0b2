package org.jtarget.core.internal.cmd;

import java.util.Objects;
import java.util.function.Predicate;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;

/**
 * One supported command (LIO's tcm_supported_opcodes entry): the single source for dispatch, CDB
 * reserved-bit checks and REPORT SUPPORTED OPERATION CODES (SPC-4 6.35).
 *
 * @param name          the command's name, for logs
 * @param opcode        OPERATION CODE
 * @param serviceAction SERVICE ACTION, or -1 when the opcode has none
 * @param usage         CDB USAGE DATA: byte 0 the opcode, then a mask of the bits the device server
 *                      looks at; any other bit set is INVALID FIELD IN CDB. Its length is the CDB length
 * @param flags         {@link #MEDIUM}, {@link #NO_UA}, ...
 * @param parser        decodes the CDB
 * @param handler       executes it
 * @param available     whether this LU offers it (e.g. UNMAP only with thin provisioning)
 */
public record OpcodeDescriptor(String name, int opcode, int serviceAction, byte[] usage, int flags, CdbParser parser,
                               CommandHandler handler, Predicate<ScsiLogicalUnit> available) {
    /** Accesses the medium: NOT READY when the LU is offline. */
    public static final int MEDIUM = 1;
    /** Neither reports nor clears unit attentions (INQUIRY, REPORT LUNS, REQUEST SENSE; SAM-5 5.14). */
    public static final int NO_UA = 1 << 1;
    /** Allowed while another I_T nexus holds an SPC-2 reservation (SPC-2 5.5.1, table 10). */
    public static final int RESERVATION_EXEMPT = 1 << 2;
    /** Modifies the medium. */
    public static final int WRITE = 1 << 3;
    /** Allowed on an offline LU and before a LUN exists (served by the device server itself). */
    public static final int ANY_LUN = 1 << 4;
    /** Data-Out must be exactly what the CDB asks for (WRITE SAME, COMPARE AND WRITE, UNMAP). */
    public static final int EXACT_DATA_OUT = 1 << 5;
    // 1 << 6 and 1 << 7 are free: reservation conflicts are decided by pr.ConflictTable alone
    /** SANITIZE itself: allowed in sanitize failure mode (SBC-3 4.11.4). */
    public static final int SANITIZE = 1 << 8;

    public OpcodeDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(parser, "parser");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(available, "available");
        if ((usage[0] & 0xFF) != opcode) {
            throw new IllegalArgumentException("usage[0]: " + (usage[0] & 0xFF) + " (expected: " + opcode + ")");
        }
    }

    public int cdbLength() {
        return usage.length;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** Builds a usage mask from int literals (easier to read than byte casts). */
    public static byte[] usage(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    @Override
    public String toString() {
        return "OpcodeDescriptor(" + name + ", opcode=0x" + Integer.toHexString(opcode)
                + (serviceAction >= 0 ? ", sa=0x" + Integer.toHexString(serviceAction) : "") + ")";
    }
}
