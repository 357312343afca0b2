package org.jtarget.spi.fabric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NetworkTextTest {
    @Test
    void printableAsciiStaysAsItIs() {
        assertEquals("iqn.1994-05.com.redhat:host1", NetworkText.escape("iqn.1994-05.com.redhat:host1"));
    }

    @Test
    void controlQuoteBackslashAndNonAsciiAreEscaped() {
        assertEquals("a\\x0D\\x0Ab\\\"c\\\\d\\xC3\\xA9\\x1B[2J", NetworkText.escape("a\r\nb\"c\\d\u00e9\u001b[2J"));
    }

    @Test
    void longValuesAreCutAndSayHowMuchIsLeft() {
        String value = "CHAP," + "x".repeat(3995);
        String escaped = NetworkText.escape(value);
        assertEquals(NetworkText.MAX + "...(3872 more)".length(), escaped.length(), escaped);
        assertTrue(escaped.endsWith("...(3872 more)"), escaped);
    }

    @Test
    void escapesCountTowardsTheLimit() {
        String escaped = NetworkText.escape("\u0000".repeat(1000));
        assertTrue(escaped.length() < NetworkText.MAX + 20, escaped);
        assertTrue(escaped.startsWith("\\x00\\x00"), escaped);
        assertTrue(escaped.endsWith(" more)"), escaped);
    }

    @Test
    void quoteAndHex() {
        assertEquals("\"a\\\"b\"", NetworkText.quote("a\"b"));
        assertEquals("null", NetworkText.quote(null));
        assertEquals("2a00ff", NetworkText.hex(new byte[] {0x2a, 0, (byte) 0xff}));
        String hex = NetworkText.hex(new byte[260]);
        assertTrue(hex.endsWith("...(196 more bytes)"), hex);
    }
}
