package org.jtarget.iscsi.internal.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextCodecTest {
    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void parsesPairsInOrder() throws Exception {
        Map<String, String> pairs = TextCodec.parse(bytes("InitiatorName=iqn.a:b\0SessionType=Normal\0Empty=\0"));
        assertEquals(List.of("InitiatorName", "SessionType", "Empty"), List.copyOf(pairs.keySet()));
        assertEquals("iqn.a:b", pairs.get("InitiatorName"));
        assertEquals("", pairs.get("Empty"));
    }

    @Test
    void valueMayContainEquals() throws Exception {
        assertEquals("0bYWJj=", TextCodec.parse(bytes("CHAP_C=0bYWJj=\0")).get("CHAP_C"));
    }

    @Test
    void rejectsMalformedText() {
        TextCodec.TextFormatException missingNul = assertThrows(TextCodec.TextFormatException.class,
                () -> TextCodec.parse(bytes("A=1")));
        assertTrue(missingNul.getMessage().contains("ended by NUL"), missingNul.getMessage());
        assertThrows(TextCodec.TextFormatException.class, () -> TextCodec.parse(bytes("novalue\0")));
        assertThrows(TextCodec.TextFormatException.class, () -> TextCodec.parse(bytes("=x\0")));
        assertThrows(TextCodec.TextFormatException.class, () -> TextCodec.parse(bytes("A=1\0A=2\0")));
        assertThrows(TextCodec.TextFormatException.class, () -> TextCodec.parse(bytes("K".repeat(64) + "=1\0")));
    }

    /** Found by TextFuzzTest: 22 three-byte characters (66 bytes) passed the 63-byte key limit of §6.1. */
    @Test
    void keyAndValueLimitsCountUtf8BytesNotCharacters() throws Exception {
        TextCodec.TextFormatException key = assertThrows(TextCodec.TextFormatException.class,
                () -> TextCodec.parse(bytes("\u20ac".repeat(22) + "=1\0")));
        assertTrue(key.getMessage().contains("66 bytes (expected: <= 63)"), key.getMessage());
        assertThrows(TextCodec.TextFormatException.class,
                () -> TextCodec.parse(bytes("TargetAlias=" + "\u00e9".repeat(4097) + "\0")));
        assertEquals("\u00e9".repeat(4096), TextCodec.parse(bytes("TargetAlias=" + "\u00e9".repeat(4096) + "\0"))
                .get("TargetAlias"));
        assertEquals(1, TextCodec.parse(bytes("\u20ac".repeat(21) + "=1\0")).size());
    }

    @Test
    void encodesWithNulTerminators() {
        Map<String, String> pairs = new LinkedHashMap<>();
        pairs.put("TargetName", "iqn.x");
        pairs.put("TargetAddress", "127.0.0.1:3260,1");
        ByteBuf b = TextCodec.encode(ByteBufAllocator.DEFAULT, pairs);
        assertEquals("TargetName=iqn.x\0TargetAddress=127.0.0.1:3260,1\0", b.toString(StandardCharsets.UTF_8));
        b.release();
    }
}
