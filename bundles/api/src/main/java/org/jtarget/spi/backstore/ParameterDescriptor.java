package org.jtarget.spi.backstore;

import java.util.Objects;

/**
 * One parameter a backstore type accepts, for validation and for the shell's help.
 *
 * @param name         key, e.g. {@code size}
 * @param description  one line for a user, e.g. "capacity, with suffix K, M, G or T"
 * @param required     whether creation fails without it
 * @param defaultValue value used when absent, or null
 */
public record ParameterDescriptor(String name, String description, boolean required, String defaultValue) {
    public ParameterDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
    }
}
