package org.jtarget.spi.fabric;

import java.nio.charset.StandardCharsets;
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
    /**
     * Shortest secret, in bytes (UTF-8): RFC 7143 §9.2.1 allows a CHAP secret of less than 96 random bits
     * only where IPsec encrypts the connection, which a target cannot verify; Microsoft's initiator refuses
     * shorter ones too.
     */
    public static final int MIN_SECRET_BYTES = 12;
    /**
     * Longest secret, in bytes (UTF-8): open-iscsi keeps a secret in a 256-byte C string
     * (AUTH_STR_MAX_LEN), so 255 bytes is the most a Linux initiator can hold. Microsoft's initiator takes
     * at most 16 bytes: use 12 to 16 for Windows hosts.
     */
    public static final int MAX_SECRET_BYTES = 255;
    /** Longest user name (CHAP_N), in bytes: open-iscsi's limit as for secrets. */
    public static final int MAX_USER_BYTES = 255;

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

    /**
     * What is wrong with these credentials, or null when nothing is: empty or too long user names, secrets
     * shorter than {@value #MIN_SECRET_BYTES} or longer than {@value #MAX_SECRET_BYTES} bytes, and a mutual
     * secret equal to the initiator's (RFC 7143 §9.2.1: a secret used to authenticate initiators MUST NOT be
     * configured to authenticate targets, so a peer cannot reflect one direction's challenge onto the other).
     * The message never contains a secret.
     */
    public String problem() {
        String p = check("CHAP user", user, 1, MAX_USER_BYTES);
        p = p != null ? p : check("CHAP secret", secret, MIN_SECRET_BYTES, MAX_SECRET_BYTES);
        if (p != null || !mutual()) {
            return p;
        }
        p = check("mutual CHAP user", mutualUser, 1, MAX_USER_BYTES);
        p = p != null ? p : check("mutual CHAP secret", mutualSecret, MIN_SECRET_BYTES, MAX_SECRET_BYTES);
        if (p == null && mutualSecret.equals(secret)) {
            p = "mutual CHAP secret: same as the CHAP secret (expected a different one, RFC 7143 §9.2.1)";
        }
        return p;
    }

    private static String check(String what, String value, int min, int max) {
        int length = value.getBytes(StandardCharsets.UTF_8).length;
        if (length < min || length > max) {
            return what + ": " + length + " bytes (expected " + min + " to " + max + ")";
        }
        return null;
    }

    @Override
    public String toString() {
        return "ChapCredentials[user=" + user + ", mutualUser=" + mutualUser + "]";
    }
}
