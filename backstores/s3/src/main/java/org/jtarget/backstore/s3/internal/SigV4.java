package org.jtarget.backstore.s3.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for S3 requests in the Authorization header (AWS docs "Signature Calculations
 * for the Authorization Header: Transferring Payload in a Single Chunk"). Only what S3 object requests
 * need: a canonical URI whose segments are encoded once (S3 does not double-encode), sorted query
 * parameters, lower-cased signed headers, and the payload's SHA-256 in {@code x-amz-content-sha256}.
 * The secret stays in this object: {@link #toString()} does not show it.
 */
final class SigV4 {
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);
    private static final HexFormat HEX = HexFormat.of();
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile(" +");

    /** The signing key of one day (it changes only with the date): not derived again for every request. */
    private record DayKey(String day, byte[] key) {
    }

    private final String accessKey;
    private final byte[] secret;
    private final String region;
    private volatile DayKey dayKey;

    SigV4(String accessKey, String secretKey, String region) {
        this.accessKey = accessKey;
        this.secret = ("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8);
        this.region = region;
    }

    String accessKey() {
        return accessKey;
    }

    /**
     * The Authorization header value.
     *
     * @param method       HTTP method
     * @param encodedPath  the path as sent, already URI-encoded ({@link #encodePath})
     * @param query        query parameters, not encoded (may be empty)
     * @param headers      the headers to sign (names in any case); must include host, x-amz-date and
     *                     x-amz-content-sha256
     * @param payloadHash  hex SHA-256 of the body, or UNSIGNED-PAYLOAD
     * @param time         the request time (the value of x-amz-date)
     */
    String authorization(String method, String encodedPath, Map<String, String> query, Map<String, String> headers,
                         String payloadHash, ZonedDateTime time) {
        TreeMap<String, String> canonicalHeaders = new TreeMap<>();
        headers.forEach((k, v) -> canonicalHeaders.put(k.toLowerCase(Locale.ROOT), SPACES.matcher(v.trim()).replaceAll(" ")));
        String signedHeaders = String.join(";", canonicalHeaders.keySet());
        String canonicalRequest = method + "\n"
                + encodedPath + "\n"
                + canonicalQuery(query) + "\n"
                + canonicalHeaders.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue() + "\n")
                        .collect(Collectors.joining()) + "\n"
                + signedHeaders + "\n"
                + payloadHash;
        String date = time.withZoneSameInstant(ZoneOffset.UTC).format(AMZ_DATE);
        String day = date.substring(0, 8);
        String scope = day + "/" + region + "/s3/aws4_request";
        String stringToSign = ALGORITHM + "\n" + date + "\n" + scope + "\n" + sha256Hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
        DayKey k = dayKey;
        if (k == null || !k.day().equals(day)) {
            k = new DayKey(day, signingKey(day, "s3"));
            dayKey = k;
        }
        String signature = HEX.formatHex(hmac(k.key(), stringToSign));
        return ALGORITHM + " Credential=" + accessKey + "/" + scope + ",SignedHeaders=" + signedHeaders
                + ",Signature=" + signature;
    }

    /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request"). */
    byte[] signingKey(String day, String service) {
        byte[] k = hmac(secret, day);
        k = hmac(k, region);
        k = hmac(k, service);
        return hmac(k, "aws4_request");
    }

    static String canonicalQuery(Map<String, String> query) {
        return new TreeMap<>(query).entrySet().stream()
                .map(e -> encode(e.getKey(), true) + "=" + encode(e.getValue(), true))
                .collect(Collectors.joining("&"));
    }

    /** Encodes each segment of an object path (RFC 3986 unreserved characters stay; '/' separates). */
    static String encodePath(String path) {
        return encode(path, false);
    }

    /** URI encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ as %XY (and '/' when a path). */
    static String encode(String s, boolean encodeSlash) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash)) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    static String sha256Hex(byte[] data) {
        return HEX.formatHex(sha256(data, 0, data.length));
    }

    /** Of the readable bytes of {@code data}; its position is not moved. */
    static String sha256Hex(java.nio.ByteBuffer data) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data.duplicate());
            return HEX.formatHex(md.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    static byte[] sha256(byte[] data, int offset, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, offset, length);
            return md.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 missing from the JDK", e);
        }
    }

    @Override
    public String toString() {
        return "SigV4[" + accessKey + ", " + region + ", secret=***]";
    }
}
