package org.jtarget.spi.fabric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ChapCredentialsTest {
    private static final String SECRET = "Zq7-initiator-secret";

    @Test
    void goodCredentialsHaveNoProblem() {
        assertNull(new ChapCredentials("host1", SECRET, null, null).problem());
        assertNull(new ChapCredentials("host1", SECRET, "target1", "Zq7-target-secret").problem());
        assertNull(new ChapCredentials("host1", "s".repeat(255), null, null).problem());
    }

    @Test
    void secretsOutOfRangeAreRefusedWithoutShowingThem() {
        assertEquals("CHAP secret: 11 bytes (expected 12 to 255)",
                new ChapCredentials("host1", "short-11-ch", null, null).problem());
        assertEquals("CHAP secret: 256 bytes (expected 12 to 255)",
                new ChapCredentials("host1", "s".repeat(256), null, null).problem());
        assertEquals("mutual CHAP secret: 5 bytes (expected 12 to 255)",
                new ChapCredentials("host1", SECRET, "t", "short").problem());
        assertEquals("CHAP user: 0 bytes (expected 1 to 255)", new ChapCredentials("", SECRET, null, null).problem());
    }

    @Test
    void mutualSecretEqualToTheInitiatorsIsRefused() {
        String problem = new ChapCredentials("host1", SECRET, "target1", SECRET).problem();
        assertEquals("mutual CHAP secret: same as the CHAP secret (expected a different one, RFC 7143 §9.2.1)", problem);
        assertFalse(problem.contains(SECRET));
    }

    @Test
    void toStringHidesSecrets() {
        assertFalse(new ChapCredentials("host1", SECRET, "target1", "Zq7-target-secret").toString().contains("Zq7"));
    }
}
