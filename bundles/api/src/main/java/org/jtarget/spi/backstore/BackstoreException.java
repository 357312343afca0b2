package org.jtarget.spi.backstore;

import java.util.Objects;
import org.jtarget.scsi.SenseReason;

/**
 * A backstore failure, carrying the sense the initiator sees. Complete a backstore's
 * {@link java.util.concurrent.CompletionStage} exceptionally with this; any other exception is
 * reported as {@link SenseReason#LOGICAL_UNIT_COMMUNICATION_FAILURE}.
 */
public class BackstoreException extends Exception {
    private static final long serialVersionUID = 1L;
    private final SenseReason reason;
    private final boolean busy;

    public BackstoreException(SenseReason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.busy = false;
    }

    public BackstoreException(SenseReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.busy = false;
    }

    private BackstoreException(String message, boolean busy) {
        super(message);
        this.reason = SenseReason.LOGICAL_UNIT_NOT_READY;
        this.busy = busy;
    }

    /**
     * The backstore has too many requests queued to take this one: the core answers TASK SET FULL (or BUSY
     * when the initiator has no other command outstanding), and the initiator retries later.
     *
     * @since 2.0
     */
    public static BackstoreException busy(String message) {
        return new BackstoreException(message, true);
    }

    /** Whether this is {@link #busy(String)}: a status, not a sense. @since 2.0 */
    public boolean isBusy() {
        return busy;
    }

    public SenseReason reason() {
        return reason;
    }
}
