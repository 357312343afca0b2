package org.jtarget.core.internal.sense;

import org.jtarget.scsi.SenseReason;

/**
 * Ends a command in CHECK CONDITION with {@link #sense()}. Thrown by parsers and handlers or used to
 * complete their stages exceptionally; it carries no stack trace because it is an expected outcome.
 */
public final class ScsiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Sense sense;

    public ScsiException(Sense sense) {
        super(sense.toString(), null, false, false);
        this.sense = sense;
    }

    public ScsiException(SenseReason reason) {
        this(Sense.of(reason));
    }

    public Sense sense() {
        return sense;
    }
}
