package org.jtarget.spi.fabric;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Makes values that came from the network (initiator names, login keys and values, CDB bytes) safe to put
 * in a log line or an error message: at most {@value #MAX} characters of output, then {@code ...(N more)};
 * control characters, non-ASCII characters (as their UTF-8 bytes), quotes and backslashes escaped as
 * {@code \xNN}, {@code \"} and {@code \\}. A peer can then neither forge log lines (CR, LF), nor hide text
 * from an operator's terminal (escape sequences), nor fill the disk with one long value.
 * Shared by the core and every fabric, so all log lines escape alike.
 */
public final class NetworkText {
    /** Characters of output kept, escapes included. */
    public static final int MAX = 128;

    private NetworkText() {
    }

    /** The value escaped and truncated; {@code "null"} for null. */
    public static String escape(Object value) {
        if (value == null) {
            return "null";
        }
        String s = value.toString();
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX) + 16);
        int i = 0;
        while (i < s.length() && out.length() < MAX) {
            int cp = s.codePointAt(i);
            if (cp == '"' || cp == '\\') {
                out.append('\\').append((char) cp);
            } else if (cp >= 0x20 && cp < 0x7f) {
                out.append((char) cp);
            } else {
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    out.append("\\x").append(HexFormat.of().withUpperCase().toHexDigits(b));
                }
            }
            i += Character.charCount(cp);
        }
        if (i < s.length()) {
            out.append("...(").append(s.length() - i).append(" more)");
        }
        return out.toString();
    }

    /** The value escaped and truncated, in double quotes: {@code "iqn...."}; {@code null} for null. */
    public static String quote(Object value) {
        return value == null ? "null" : "\"" + escape(value) + "\"";
    }

    /** Bytes as hex, truncated to {@value #MAX} characters of output ({@code ...(N more bytes)}). */
    public static String hex(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        int shown = Math.min(bytes.length, MAX / 2);
        String hex = HexFormat.of().formatHex(bytes, 0, shown);
        return shown == bytes.length ? hex : hex + "...(" + (bytes.length - shown) + " more bytes)";
    }
}
