package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The examples AWS publishes for SigV4 with S3 (Amazon S3 API reference, "Examples: Signature Calculations in
 * AWS Signature Version 4", bucket examplebucket, key AKIAIOSFODNN7EXAMPLE) and the signing-key example of the
 * general SigV4 documentation.
 */
class SigV4Test {
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final ZonedDateTime TIME = ZonedDateTime.of(2013, 5, 24, 0, 0, 0, 0, ZoneOffset.UTC);
    private final SigV4 signer = new SigV4("AKIAIOSFODNN7EXAMPLE", SECRET, "us-east-1");

    private static Map<String, String> headers(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void getObjectWithRange() {
        String auth = signer.authorization("GET", "/test.txt", Map.of(),
                headers("Host", "examplebucket.s3.amazonaws.com", "Range", "bytes=0-9",
                        "x-amz-content-sha256", EMPTY_SHA256, "x-amz-date", "20130524T000000Z"), EMPTY_SHA256, TIME);
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", auth);
    }

    @Test
    void putObjectWithEncodedKey() {
        byte[] body = "Welcome to Amazon S3.".getBytes(StandardCharsets.UTF_8);
        String hash = SigV4.sha256Hex(body);
        assertEquals("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", hash);
        String auth = signer.authorization("PUT", SigV4.encodePath("/test$file.text"), Map.of(),
                headers("Date", "Fri, 24 May 2013 00:00:00 GMT", "Host", "examplebucket.s3.amazonaws.com",
                        "x-amz-date", "20130524T000000Z", "x-amz-storage-class", "REDUCED_REDUNDANCY",
                        "x-amz-content-sha256", hash), hash, TIME);
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", auth);
    }

    @Test
    void getBucketLifecycleWithValuelessQuery() {
        String auth = signer.authorization("GET", "/", Map.of("lifecycle", ""),
                headers("Host", "examplebucket.s3.amazonaws.com", "x-amz-date", "20130524T000000Z",
                        "x-amz-content-sha256", EMPTY_SHA256), EMPTY_SHA256, TIME);
        assertEquals("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543", signature(auth));
    }

    @Test
    void listObjectsWithSortedQuery() {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("prefix", "J");
        query.put("max-keys", "2");
        String auth = signer.authorization("GET", "/", query,
                headers("Host", "examplebucket.s3.amazonaws.com", "x-amz-date", "20130524T000000Z",
                        "x-amz-content-sha256", EMPTY_SHA256), EMPTY_SHA256, TIME);
        assertEquals("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", signature(auth));
    }

    @Test
    void signingKeyOfTheGeneralExample() {
        SigV4 iam = new SigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1");
        assertEquals("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
                HexFormat.of().formatHex(iam.signingKey("20120215", "iam")));
    }

    @Test
    void encodingKeepsUnreservedAndEncodesTheRest() {
        assertEquals("/a/b%20c/%C3%A9~_-.", SigV4.encodePath("/a/b c/é~_-."));
        assertEquals("a%2Fb", SigV4.encode("a/b", true));
    }

    @Test
    void toStringHidesTheSecret() {
        assertFalse(signer.toString().contains(SECRET));
    }

    private static String signature(String auth) {
        return auth.substring(auth.indexOf("Signature=") + "Signature=".length());
    }
}
