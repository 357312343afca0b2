package org.jtarget.core.internal.pr;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jtarget.core.internal.sense.Sense;

/**
 * iSCSI TransportIDs (SPC-4 7.6.4.6): byte 0 FORMAT CODE (bits 7-6) and PROTOCOL IDENTIFIER 5h (bits 3-0),
 * bytes 2-3 ADDITIONAL LENGTH (at least 20, a multiple of 4), then the name in UTF-8, NUL-terminated and
 * padded with NULs. Format 00b names an initiator device ({@code iqn...}); format 01b an initiator port
 * ({@code iqn...,i,0x} and the ISID in 12 hexadecimal digits).
 */
public final class TransportIds {
    /** SPC-4 7.6.1 table 444: the PROTOCOL IDENTIFIER of iSCSI. */
    public static final int ISCSI = 5;
    /** RFC 7143 4.2.7.1: between the initiator name and the ISID of an initiator port name. */
    static final String ISID_SEPARATOR = ",i,0x";
    /** RFC 3720 3.2.6.1: an iSCSI name is at most 223 bytes. */
    private static final int MAX_NAME = 223;

    private TransportIds() {
    }

    /**
     * An initiator named by a TransportID.
     *
     * @param name the iSCSI initiator name, lower case (RFC 3722 stringprep folds case)
     * @param isid the ISID in 12 lower-case hex digits for format 01b, null for format 00b (any port)
     * @param length the bytes the TransportID took in the parameter list
     */
    public record Initiator(String name, String isid, int length) {
        /** The initiator port name ({@code name,i,0xISID}), or the device name for format 00b. */
        public String portName() {
            return isid == null ? name : name + ISID_SEPARATOR + isid;
        }
    }

    /**
     * Parses the TransportID at {@code offset} of a parameter list.
     *
     * @param fieldBase where the TransportID sits in the whole parameter list (for the sense field pointer)
     * @throws org.jtarget.core.internal.sense.ScsiException INVALID FIELD IN PARAMETER LIST for another
     *     protocol, an unknown format, a bad length or a malformed name
     */
    public static Initiator parse(byte[] list, int offset, int fieldBase) {
        if (list.length - offset < 24) {
            throw Sense.invalidParameterField(fieldBase, -1).exception(); // the smallest iSCSI TransportID
        }
        int protocol = list[offset] & 0x0F;
        int format = (list[offset] >>> 6) & 0x03;
        if (protocol != ISCSI) {
            throw Sense.invalidParameterField(fieldBase, 3).exception();
        }
        if (format > 1 || (list[offset] & 0x30) != 0) {
            throw Sense.invalidParameterField(fieldBase, 7).exception();
        }
        int additional = ((list[offset + 2] & 0xFF) << 8) | (list[offset + 3] & 0xFF);
        if (additional < 20 || additional % 4 != 0 || offset + 4 + additional > list.length) {
            throw Sense.invalidParameterField(fieldBase + 2, -1).exception();
        }
        int start = offset + 4;
        int end = start;
        while (end < start + additional && list[end] != 0) {
            end++;
        }
        if (end == start || end == start + additional || end - start > MAX_NAME + ISID_SEPARATOR.length() + 12) {
            throw Sense.invalidParameterField(fieldBase + 4, -1).exception(); // empty or not NUL-terminated
        }
        String text = new String(list, start, end - start, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
        int sep = text.indexOf(ISID_SEPARATOR);
        String name;
        String isid = null;
        if (format == 0) {
            if (sep >= 0) {
                throw Sense.invalidParameterField(fieldBase + 4, -1).exception();
            }
            name = text;
        } else {
            if (sep <= 0) {
                throw Sense.invalidParameterField(fieldBase + 4, -1).exception();
            }
            name = text.substring(0, sep);
            isid = normalIsid(text.substring(sep + ISID_SEPARATOR.length()));
            if (isid == null) {
                throw Sense.invalidParameterField(fieldBase + 4 + sep + ISID_SEPARATOR.length(), -1).exception();
            }
        }
        if (name.length() > MAX_NAME || !name.chars().allMatch(c -> c > 0x20 && c != ',')) {
            throw Sense.invalidParameterField(fieldBase + 4, -1).exception();
        }
        return new Initiator(name, isid, 4 + additional);
    }

    /** The ISID as 12 lower-case hex digits (at most 12 given, zero-extended), or null when not hex. */
    static String normalIsid(String hex) {
        if (hex.isEmpty() || hex.length() > 12 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            return null;
        }
        return "0".repeat(12 - hex.length()) + hex.toLowerCase(Locale.ROOT);
    }

    /** The ISID part of an initiator port name ({@code name,i,0xISID}), or null when it has none. */
    public static String isidOf(String initiatorPortName) {
        int sep = initiatorPortName.toLowerCase(Locale.ROOT).lastIndexOf(ISID_SEPARATOR);
        return sep < 0 ? null : normalIsid(initiatorPortName.substring(sep + ISID_SEPARATOR.length()));
    }

    /** The TransportID of an initiator: format 01b with an ISID, else 00b; padded to a multiple of 4, at least 24 bytes. */
    public static byte[] encode(String name, String isid) {
        byte[] text = (isid == null ? name : name + ISID_SEPARATOR + isid).getBytes(StandardCharsets.UTF_8);
        int additional = Math.max(20, (text.length + 1 + 3) & ~3);
        byte[] id = new byte[4 + additional];
        id[0] = (byte) ((isid == null ? 0x00 : 0x40) | ISCSI);
        id[2] = (byte) (additional >>> 8);
        id[3] = (byte) additional;
        System.arraycopy(text, 0, id, 4, text.length);
        return id;
    }
}
