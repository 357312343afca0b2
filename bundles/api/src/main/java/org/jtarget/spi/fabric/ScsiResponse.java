package org.jtarget.spi.fabric;

import io.netty.buffer.ByteBuf;
import java.util.Objects;
import org.jtarget.scsi.ScsiStatus;

/**
 * The outcome of a command.
 *
 * @param status         the SCSI status
 * @param data           Data-In, or null; owned by whoever holds the response. It may be longer than the
 *                       expected length: the fabric sends at most that much and reports overflow,
 *                       or shorter: the fabric reports underflow
 * @param sense          sense bytes (fixed or descriptor format) for CHECK CONDITION, or null
 * @param transferLength for commands without Data-In, the Data-Out bytes the CDB asked for (blocks times
 *                       block size, parameter list length); compared with the expected length for the
 *                       residual. Ignored when {@code data} is present: its length counts
 */
public record ScsiResponse(ScsiStatus status, ByteBuf data, byte[] sense, int transferLength) {
    public ScsiResponse {
        Objects.requireNonNull(status, "status");
    }

    /** GOOD status with no data. */
    public static ScsiResponse good() {
        return new ScsiResponse(ScsiStatus.GOOD, null, null, 0);
    }
}
