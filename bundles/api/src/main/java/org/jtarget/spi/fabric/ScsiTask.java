package org.jtarget.spi.fabric;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.TaskAttribute;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One SCSI command as a fabric received it (LIO's se_cmd seen through fabric_ops). Implemented by the
 * fabric. The core calls {@link #receiveData}, {@link #complete} and {@link #aborted} from any thread.
 */
@ConsumerType
public interface ScsiTask {
    /** The LUN as an 8-byte SAM LUN field (SAM-5 4.7), big-endian in a long. */
    long lun();

    /** The CDB (16 bytes or more for iSCSI with an extended CDB AHS); the core does not modify it. */
    byte[] cdb();

    /** The fabric's task tag (iSCSI Initiator Task Tag), for ABORT TASK and QUERY TASK. */
    long tag();

    TaskAttribute attribute();

    DataDirection direction();

    /** Expected data transfer length in bytes (for BIDIRECTIONAL, the Data-Out length). */
    int expectedDataLength();

    /** Expected Data-In length for BIDIRECTIONAL commands (iSCSI Bidirectional Read AHS); else 0. */
    default int expectedBidirectionalReadLength() {
        return 0;
    }

    /**
     * Fetches the command's Data-Out: exactly {@link #expectedDataLength()} bytes, gathered from
     * immediate, unsolicited and solicited (R2T) data. Called at most once, only for WRITE and
     * BIDIRECTIONAL commands. Ownership of the buffer passes to the core, which releases it.
     * If the connection fails first, the stage completes exceptionally.
     */
    CompletionStage<ByteBuf> receiveData();

    /**
     * Ends the command with its status. Called once. Ownership of {@code response}'s data passes to
     * the fabric, which releases it. The fabric computes residuals from
     * {@link ScsiResponse#transferLength()} and {@link #expectedDataLength()}.
     */
    void complete(ScsiResponse response);

    /** The command was aborted by task management or session close: send no response (RFC 7143 11.5.1). */
    void aborted();
}
