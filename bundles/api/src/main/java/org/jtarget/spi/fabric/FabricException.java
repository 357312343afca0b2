package org.jtarget.spi.fabric;

/** A fabric could not do what the core asked (e.g. bind a portal); the message is for the user. */
public class FabricException extends Exception {
    private static final long serialVersionUID = 1L;

    public FabricException(String message) {
        super(message);
    }

    public FabricException(String message, Throwable cause) {
        super(message, cause);
    }
}
