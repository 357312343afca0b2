package org.jtarget.spi.backstore;

import java.util.Objects;

/**
 * One parameter a backstore type accepts, for validation and for the shell's help.
 *
 * @param name         key, e.g. {@code size}
 * @param description  one line for a user, e.g. "capacity, with suffix K, M, G or T"
 * @param required     whether creation fails without it
 * @param defaultValue value used when absent, or null
 * @param secret       whether the value is a secret (a password, an S3 secret key): it is never shown
 *                     ({@code ***}) or logged, and saved only in files of mode 0600 (since 2.0)
 */
public record ParameterDescriptor(String name, String description, boolean required, String defaultValue,
                                  boolean secret) {
    public ParameterDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
    }

    /** A parameter that is not a secret. */
    public ParameterDescriptor(String name, String description, boolean required, String defaultValue) {
        this(name, description, required, defaultValue, false);
    }
}
