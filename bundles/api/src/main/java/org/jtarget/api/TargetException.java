package org.jtarget.api;

/** An administrative request was refused; the message says why, for the user (e.g. "no such target: X"). */
public class TargetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TargetException(String message) {
        super(message);
    }

    public TargetException(String message, Throwable cause) {
        super(message, cause);
    }
}
