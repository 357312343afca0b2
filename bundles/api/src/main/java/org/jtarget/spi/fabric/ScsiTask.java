package org.jtarget.spi.fabric;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.TaskAttribute;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One SCSI command as a fabric received it (LIO's se_cmd seen through fabric_ops). Implemented by the
 * fabric. The core calls {@link #receiveData}, {@link #complete} and {@link #aborted} from any thread,
 * including the thread that called {@link ScsiSession#submit} before that call returns; exactly one of
 * {@link #complete} and {@link #aborted} is called, once. The getters are called from any thread and must
 * return the same values every time.
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
     * BIDIRECTIONAL commands. Ownership of the buffer passes to the core, which releases it, also
     * when the command was aborted before the stage completed. If the connection fails first, the stage
     * completes exceptionally (the command then ends with CHECK CONDITION, or aborted when the session
     * closes). Complete the stage on any thread; do not block in this method waiting for the data.
     */
    CompletionStage<ByteBuf> receiveData();

    /**
     * Ends the command with its status. Called once. Ownership of {@code response}'s data passes to
     * the fabric, which releases it. The fabric computes residuals from
     * {@link ScsiResponse#transferLength()} and {@link #expectedDataLength()}.
     */
    void complete(ScsiResponse response);

    /**
     * The command was aborted by task management, session close or a PREEMPT AND ABORT: send no response
     * (RFC 7143 11.5.1) and forget the task; the core holds nothing of it any more.
     */
    void aborted();
}
