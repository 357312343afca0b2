package org.jtarget.core.internal.registry;

import java.util.regex.Pattern;
import org.jtarget.api.TargetException;

/** Validation of names the user types. */
final class Names {
    /** Backstore object names: used in file names and shell arguments. */
    private static final Pattern OBJECT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern FABRIC_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    /** RFC 7143 4.2.7.2 iqn., 4.2.7.3 eui. (16 hex digits), 4.2.7.4 naa. (16 or 32 hex digits). */
    private static final Pattern IQN = Pattern.compile("iqn\\.\\d{4}-\\d{2}\\.[a-z0-9][a-z0-9.-]*(:[^\\s]+)?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern EUI = Pattern.compile("eui\\.[0-9a-f]{16}", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAA = Pattern.compile("naa\\.([0-9a-f]{16}|[0-9a-f]{32})", Pattern.CASE_INSENSITIVE);

    private Names() {
    }

    static void checkObjectName(String what, String name) {
        if (name == null || !OBJECT_NAME.matcher(name).matches()) {
            throw new TargetException(what + " name: " + name
                    + " (expected 1..64 characters: letters, digits, '_', '.', '-'; starting with a letter or digit)");
        }
    }

    static void checkFabricName(String name) {
        if (name == null || !FABRIC_NAME.matcher(name).matches()) {
            throw new TargetException("fabric name: " + name + " (expected lower-case letters and digits, e.g. iscsi)");
        }
    }

    /**
     * The basic SCSI name check used when no fabric is there to validate: iqn., eui. or naa. form, at
     * most 223 bytes (RFC 7143 4.2.7.1).
     *
     * @return null when valid, otherwise why not
     */
    static String checkScsiName(String name) {
        if (name == null || name.isEmpty()) {
            return "empty name (expected iqn.yyyy-mm.reversed.domain[:id], eui.<16 hex> or naa.<16|32 hex>)";
        }
        if (name.length() > 223) {
            return "name too long: " + name.length() + " characters (expected <= 223)";
        }
        if (IQN.matcher(name).matches() || EUI.matcher(name).matches() || NAA.matcher(name).matches()) {
            return null;
        }
        return "invalid name: " + name + " (expected iqn.yyyy-mm.reversed.domain[:id], eui.<16 hex> or naa.<16|32 hex>)";
    }

    /**
     * The check for a name of a fabric that is not present: at most 4096 bytes (NBD's export name limit,
     * the longest any fabric allows), no white space or control characters.
     *
     * @return null when acceptable, otherwise why not
     */
    static String checkAnyFabricName(String name) {
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 4096) {
            return "name too long (expected <= 4096 bytes)";
        }
        if (name.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            return "invalid name: white space or control characters";
        }
        return null;
    }

    static void checkTag(int tag) {
        if (tag < 1 || tag > 65535) {
            throw new TargetException("TPG tag: " + tag + " (expected 1..65535)");
        }
    }

    static void checkLun(int lun) {
        if (lun < 0 || lun > 16383) {
            throw new TargetException("LUN: " + lun + " (expected 0..16383)");
        }
    }
}
