package org.jtarget.iscsi.internal.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import org.jtarget.spi.fabric.NetworkText;

/**
 * CHAP with MD5 (RFC 1994 §4.1; RFC 7143 §12.1.3): response = MD5(identifier byte || secret || challenge).
 * Binary values travel as {@code 0x} hex or {@code 0b} base64 (RFC 7143 §6.1, binary-value).
 */
public final class Chap {
    /** CHAP_A value for MD5 (RFC 1994, IANA PPP authentication algorithms). */
    public static final String MD5 = "5";

    private Chap() {
    }

    /** MD5(id || secret || challenge). */
    public static byte[] response(int identifier, String secret, byte[] challenge) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update((byte) identifier);
            md5.update(secret.getBytes(StandardCharsets.UTF_8));
            md5.update(challenge);
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }

    /**
     * Whether {@code name} and {@code response} are the expected ones, in time independent of where they
     * differ: both are always compared, digests of the names so that their lengths do not show either.
     */
    public static boolean matches(String name, String expectedName, byte[] response, byte[] expectedResponse) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] a = sha.digest(name.getBytes(StandardCharsets.UTF_8));
            byte[] b = sha.digest(expectedName.getBytes(StandardCharsets.UTF_8));
            return MessageDigest.isEqual(a, b) & MessageDigest.isEqual(response, expectedResponse);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /** Decodes a binary value ({@code 0x...} hex or {@code 0b...} base64). */
    public static byte[] decode(String value) {
        if (value.length() > 2 && (value.startsWith("0x") || value.startsWith("0X"))) {
            String hex = value.substring(2);
            if (hex.length() % 2 != 0) {
                hex = "0" + hex;
            }
            return HexFormat.of().parseHex(hex);
        }
        if (value.length() > 2 && (value.startsWith("0b") || value.startsWith("0B"))) {
            return Base64.getDecoder().decode(value.substring(2));
        }
        throw new IllegalArgumentException("binary value: " + NetworkText.quote(value) + " (expected: 0x<hex> or 0b<base64>)");
    }

    /** Encodes bytes as a {@code 0x} hex binary value. */
    public static String encode(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    /** Parses a CHAP_I value: a decimal (or 0x hex) number 0..255. */
    public static int parseIdentifier(String value) {
        int id;
        try {
            id = value.startsWith("0x") || value.startsWith("0X") ? Integer.parseInt(value.substring(2), 16)
                    : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            id = -1;
        }
        if (id < 0 || id > 255) {
            throw new IllegalArgumentException("CHAP_I: " + NetworkText.quote(value) + " (expected: 0..255)");
        }
        return id;
    }
}
