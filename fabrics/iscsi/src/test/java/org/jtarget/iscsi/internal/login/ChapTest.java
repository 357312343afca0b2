package org.jtarget.iscsi.internal.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ChapTest {
    private final byte[] right = Chap.response(1, "alice-secret", new byte[16]);
    private final byte[] wrong = Chap.response(1, "alice-secreT", new byte[16]);

    @Test
    void nameAndResponseMustBothMatch() {
        assertTrue(Chap.matches("alice", "alice", right, right.clone()));
        assertFalse(Chap.matches("alice", "alice", wrong, right));
        assertFalse(Chap.matches("alicE", "alice", right, right));
        assertFalse(Chap.matches("alice-longer", "alice", right, right));
        assertFalse(Chap.matches("alice", "alice", new byte[0], right));
    }

    @Test
    void badBinaryValuesAreQuotedShortInTheError() {
        String message = assertThrows(IllegalArgumentException.class,
                () -> Chap.decode("0z\n" + "9".repeat(5000))).getMessage();
        assertTrue(message.startsWith("binary value: \"0z\\x0A999"), message);
        assertTrue(message.length() < 300, message);
        assertEquals("CHAP_I: \"300\" (expected: 0..255)",
                assertThrows(IllegalArgumentException.class, () -> Chap.parseIdentifier("300")).getMessage());
    }
}
