package org.jtarget.spi.fabric;

import java.util.Objects;

/**
 * CHAP secrets for one initiator (RFC 7143 12.1.3).
 *
 * @param user         the name the initiator authenticates with (CHAP_N it sends)
 * @param secret       the secret the initiator proves it knows
 * @param mutualUser   the name the target answers with in mutual CHAP, or null for one-way CHAP
 * @param mutualSecret the secret the target proves it knows, or null for one-way CHAP
 */
public record ChapCredentials(String user, String secret, String mutualUser, String mutualSecret) {
    public ChapCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(secret, "secret");
        if ((mutualUser == null) != (mutualSecret == null)) {
            throw new IllegalArgumentException("mutual CHAP needs both a user and a secret");
        }
    }

    /** Whether the target must also authenticate itself to the initiator. */
    public boolean mutual() {
        return mutualUser != null;
    }

    @Override
    public String toString() {
        return "ChapCredentials[user=" + user + ", mutualUser=" + mutualUser + "]";
    }
}
