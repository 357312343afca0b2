package org.jtarget.core.internal.cmd;

import org.jtarget.core.internal.scsi.ScsiLogicalUnit;

/**
 * Decodes one CDB's fields and binds the handler, without side effects (LIO's sbc_parse_cdb).
 * Errors are thrown as {@link org.jtarget.core.internal.sense.ScsiException}.
 */
@FunctionalInterface
public interface CdbParser {
    ParsedCommand parse(Cdb cdb, OpcodeDescriptor descriptor, ScsiLogicalUnit lu);
}
