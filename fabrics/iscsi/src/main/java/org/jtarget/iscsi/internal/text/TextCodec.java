package org.jtarget.iscsi.internal.text;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtarget.spi.fabric.NetworkText;

/**
 * The text format of Login and Text PDUs (RFC 7143 §6.1): {@code key=value} pairs in UTF-8, each ended by a
 * NUL byte. Keys are at most 63 bytes; a value may be up to 255 bytes (8192 for some keys).
 */
public final class TextCodec {
    /** RFC 7143 §6.1: key names are at most 63 bytes. */
    public static final int MAX_KEY_LENGTH = 63;
    /** RFC 7143 §6.1: values up to 8192 bytes where a key allows it (e.g. CHAP_C with base64). */
    public static final int MAX_VALUE_LENGTH = 8192;

    private TextCodec() {
    }

    /**
     * Parses a data segment. Keys keep their order; a repeated key is an error (§6.1) unless it is one of the
     * keys allowed to repeat in Text Responses (TargetName/TargetAddress), which parsing of requests never
     * needs. A trailing pair without its NUL (a fragment continued in the next PDU) is an error here: callers
     * join continued PDUs first.
     *
     * @throws TextFormatException with a message for the user
     */
    public static Map<String, String> parse(ByteBuf data) throws TextFormatException {
        Map<String, String> pairs = new LinkedHashMap<>();
        // Lengths are limits in bytes (§6.1), so the pairs are cut out of the bytes before decoding UTF-8.
        int start = data.readerIndex();
        int limit = data.writerIndex();
        while (start < limit) {
            int end = data.indexOf(start, limit, (byte) 0);
            if (end < 0) {
                throw new TextFormatException("text: " + NetworkText.quote(utf8(data, start, limit - start))
                        + " (expected: key=value ended by NUL)");
            }
            if (end == start) { // tolerate stray NUL padding
                start++;
                continue;
            }
            int eq = data.indexOf(start, end, (byte) '=');
            if (eq <= start) {
                throw new TextFormatException("text: " + NetworkText.quote(utf8(data, start, end - start)) + " (expected: key=value)");
            }
            String key = utf8(data, start, eq - start);
            if (eq - start > MAX_KEY_LENGTH) {
                throw new TextFormatException("key length: " + (eq - start) + " bytes (expected: <= "
                        + MAX_KEY_LENGTH + ")");
            }
            if (end - eq - 1 > MAX_VALUE_LENGTH) {
                throw new TextFormatException("value length of " + NetworkText.escape(key) + ": " + (end - eq - 1) + " bytes (expected: <= "
                        + MAX_VALUE_LENGTH + ")");
            }
            String value = utf8(data, eq + 1, end - eq - 1);
            if (pairs.putIfAbsent(key, value) != null) {
                throw new TextFormatException("key " + NetworkText.escape(key) + " sent twice (expected: once, RFC 7143 §6.1)");
            }
            start = end + 1;
        }
        return pairs;
    }

    private static String utf8(ByteBuf data, int index, int length) {
        return data.toString(index, length, StandardCharsets.UTF_8);
    }

    /** Encodes pairs as {@code key=value\0...}; an empty map gives an empty buffer. */
    public static ByteBuf encode(ByteBufAllocator alloc, Iterable<Map.Entry<String, String>> pairs) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : pairs) {
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\0');
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(bytes.length).writeBytes(bytes);
    }

    public static ByteBuf encode(ByteBufAllocator alloc, Map<String, String> pairs) {
        return encode(alloc, pairs.entrySet());
    }

    /** Thrown for text that breaks RFC 7143 §6.1; the message says what was expected. */
    public static final class TextFormatException extends Exception {
        private static final long serialVersionUID = 1L;

        public TextFormatException(String message) {
            super(message);
        }
    }
}
