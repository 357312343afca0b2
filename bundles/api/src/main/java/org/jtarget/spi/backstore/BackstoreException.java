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

    public BackstoreException(SenseReason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public BackstoreException(SenseReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public SenseReason reason() {
        return reason;
    }
}
