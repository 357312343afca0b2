package org.jtarget.shell.internal;

/**
 * A shell command was refused; the message is what the user reads. Gogo fails the command line with it
 * (so {@code jtarget exec} exits non-zero), and the console prints {@link #toString()}, which is the
 * message alone: one line, no class name, no stack trace ({@code $exception printStackTrace} still has it).
 */
public final class CommandFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandFailure(String message) {
        super(message);
    }

    public CommandFailure(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
