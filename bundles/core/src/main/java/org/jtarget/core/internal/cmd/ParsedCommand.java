package org.jtarget.core.internal.cmd;

import java.util.Objects;

/**
 * A decoded CDB with its handler bound: what the pipeline needs to order, gate and run it.
 *
 * @param cdb              the CDB
 * @param descriptor       the table entry it matched
 * @param handler          what executes it
 * @param lba              first logical block, or 0
 * @param blocks           number of logical blocks addressed (transfer, verification or sync length)
 * @param dataOutLength    Data-Out bytes the CDB asks for (blocks x block size or parameter list length)
 * @param allocationLength Data-In bytes the initiator allows (allocation length or blocks x block size)
 */
public record ParsedCommand(Cdb cdb, OpcodeDescriptor descriptor, CommandHandler handler, long lba, long blocks,
                            int dataOutLength, int allocationLength) {
    public ParsedCommand {
        Objects.requireNonNull(cdb, "cdb");
        Objects.requireNonNull(descriptor, "descriptor");
        Objects.requireNonNull(handler, "handler");
    }

    /** A command without block addressing (most SPC commands). */
    public static ParsedCommand control(Cdb cdb, OpcodeDescriptor d, int dataOutLength, int allocationLength) {
        return new ParsedCommand(cdb, d, d.handler(), 0, 0, dataOutLength, allocationLength);
    }

    public boolean hasFlag(int flag) {
        return descriptor.hasFlag(flag);
    }
}
