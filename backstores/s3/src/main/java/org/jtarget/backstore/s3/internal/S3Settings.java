package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.ParameterDescriptor;

/** The parameters of an {@code s3} backstore, checked; {@link #toString()} never shows the secret key. */
record S3Settings(String name, String bucket, long size, String prefix, URI endpoint, String region, boolean pathStyle,
                  int objectSize, int blockSize, long cacheSize, String accessKey, String secretKey) {
    static final String BUCKET = "bucket";
    static final String SIZE = "size";
    static final String PREFIX = "prefix";
    static final String ENDPOINT = "endpoint";
    static final String REGION = "region";
    static final String PATH_STYLE = "path_style";
    static final String OBJECT_SIZE = "object_size";
    static final String BLOCK_SIZE = "block_size";
    static final String CACHE_SIZE = "cache_size";
    static final String ACCESS_KEY = "access_key";
    static final String SECRET_KEY = "secret_key";
    static final String CREDENTIALS = "credentials";
    static final String DEFAULT_OBJECT_SIZE = "1M";
    static final String DEFAULT_CACHE_SIZE = "256M";

    static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(BUCKET, "the bucket (it must exist)", true, null),
            new ParameterDescriptor(SIZE, "capacity with suffix K, M, G or T; recorded in PREFIX/jtarget.json at"
                    + " creation and checked at every open", true, null),
            new ParameterDescriptor(PREFIX, "key prefix of the LUN's objects (default: NAME/)", false, null),
            new ParameterDescriptor(ENDPOINT, "http(s)://host[:port] of the S3 server (default: AWS S3 of the region)",
                    false, null),
            new ParameterDescriptor(REGION, "signing region (SigV4)", false, "us-east-1"),
            new ParameterDescriptor(PATH_STYLE, "true: http://host/bucket/key (MinIO, Ceph RGW, S3Proxy); false:"
                    + " http://bucket.host/key (default: true when endpoint is given)", false, null),
            new ParameterDescriptor(OBJECT_SIZE, "bytes per object, a multiple of the block size from 4K to 64M;"
                    + " fixed at creation", false, DEFAULT_OBJECT_SIZE),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096", false, "512"),
            new ParameterDescriptor(CACHE_SIZE, "local write-back cache in the data folder (at least 4 objects)",
                    false, DEFAULT_CACHE_SIZE),
            new ParameterDescriptor(ACCESS_KEY, "access key id (with secret_key)", false, null),
            new ParameterDescriptor(SECRET_KEY, "secret access key: never shown or logged", false, null, true),
            new ParameterDescriptor(CREDENTIALS, "instead of the keys: a file (relative to the data folder) with"
                    + " aws_access_key_id and aws_secret_access_key lines, as in ~/.aws/credentials", false, null));
    static final Set<String> KNOWN = PARAMETERS.stream().map(ParameterDescriptor::name).collect(Collectors.toSet());

    static S3Settings parse(BackstoreContext context) throws BackstoreException {
        Map<String, String> p = context.parameters();
        BackstoreParameters.checkKnown(p, KNOWN);
        String bucket = required(p, BUCKET, "a bucket name");
        long size = BackstoreParameters.size(SIZE, required(p, SIZE, "a size with suffix K, M, G or T"));
        int blockSize = BackstoreParameters.blockSize(context.parameter(BLOCK_SIZE, "512"));
        if (size % blockSize != 0) {
            throw BackstoreParameters.invalid(SIZE + ": " + p.get(SIZE) + " (expected: a multiple of the block size "
                    + blockSize + ")");
        }
        String objectSizeText = context.parameter(OBJECT_SIZE, DEFAULT_OBJECT_SIZE);
        long objectSize = BackstoreParameters.size(OBJECT_SIZE, objectSizeText);
        if (objectSize < 4096 || objectSize > (64 << 20) || objectSize % blockSize != 0) {
            throw BackstoreParameters.invalid(OBJECT_SIZE + ": " + objectSizeText + " (expected: a multiple of the block size "
                    + blockSize + " from 4K to 64M)");
        }
        String cacheText = context.parameter(CACHE_SIZE, DEFAULT_CACHE_SIZE);
        long cacheSize = BackstoreParameters.size(CACHE_SIZE, cacheText);
        if (cacheSize / objectSize < 4 || cacheSize / objectSize > (1 << 20)) {
            throw BackstoreParameters.invalid(CACHE_SIZE + ": " + cacheText + " (expected: 4 to 1048576 objects of "
                    + objectSize + " bytes)");
        }
        String region = context.parameter(REGION, "us-east-1").trim();
        if (!region.matches("[a-z0-9-]+")) {
            throw BackstoreParameters.invalid(REGION + ": " + region + " (expected: a region name such as us-east-1)");
        }
        URI endpoint = endpoint(p.get(ENDPOINT), region);
        boolean pathStyle = p.containsKey(PATH_STYLE) ? BackstoreParameters.bool(PATH_STYLE, p.get(PATH_STYLE))
                : p.containsKey(ENDPOINT);
        String prefix = context.parameter(PREFIX, context.name() + "/");
        String[] keys = credentials(context);
        return new S3Settings(context.name(), bucket, size, prefix, endpoint, region, pathStyle, (int) objectSize,
                blockSize, cacheSize, keys[0], keys[1]);
    }

    private static String required(Map<String, String> p, String key, String expected) throws BackstoreException {
        String v = p.get(key);
        if (v == null || v.isBlank()) {
            throw BackstoreParameters.invalid(key + ": missing (expected: " + expected + ")");
        }
        return v.trim();
    }

    private static URI endpoint(String value, String region) throws BackstoreException {
        if (value == null) {
            return URI.create("https://s3." + region + ".amazonaws.com");
        }
        try {
            URI u = new URI(value.trim());
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
                    || !(u.getRawPath() == null || u.getRawPath().isEmpty() || "/".equals(u.getRawPath()))
                    || u.getRawQuery() != null) {
                throw new URISyntaxException(value, "not http(s)://host[:port]");
            }
            return new URI(u.getScheme(), null, u.getHost(), u.getPort(), null, null, null);
        } catch (URISyntaxException e) {
            throw BackstoreParameters.invalid(ENDPOINT + ": " + value + " (expected: http(s)://host[:port])");
        }
    }

    /** {access key, secret key}, from the parameters or from the credentials file. */
    private static String[] credentials(BackstoreContext context) throws BackstoreException {
        Map<String, String> p = context.parameters();
        boolean keys = p.containsKey(ACCESS_KEY) || p.containsKey(SECRET_KEY);
        if (p.containsKey(CREDENTIALS)) {
            if (keys) {
                throw BackstoreParameters.invalid(CREDENTIALS + ": " + p.get(CREDENTIALS)
                        + " (expected: either credentials or access_key and secret_key, not both)");
            }
            Path file = context.dataDirectory().resolve(p.get(CREDENTIALS).trim());
            String access = null;
            String secret = null;
            try {
                for (String line : Files.readAllLines(file)) {
                    int eq = line.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String k = line.substring(0, eq).trim();
                    String v = line.substring(eq + 1).trim();
                    if (access == null && (k.equals("aws_access_key_id") || k.equals(ACCESS_KEY))) {
                        access = v;
                    } else if (secret == null && (k.equals("aws_secret_access_key") || k.equals(SECRET_KEY))) {
                        secret = v;
                    }
                }
            } catch (IOException e) {
                throw BackstoreParameters.invalid(CREDENTIALS + ": " + file + " (cannot read: " + e.getClass().getSimpleName() + ")");
            }
            if (access == null || secret == null) {
                throw BackstoreParameters.invalid(CREDENTIALS + ": " + file
                        + " (expected: aws_access_key_id = ... and aws_secret_access_key = ... lines)");
            }
            return new String[] {access, secret};
        }
        if (!p.containsKey(ACCESS_KEY) || !p.containsKey(SECRET_KEY)) {
            throw BackstoreParameters.invalid((p.containsKey(ACCESS_KEY) ? SECRET_KEY : ACCESS_KEY)
                    + ": missing (expected: access_key and secret_key, or credentials=FILE)");
        }
        return new String[] {p.get(ACCESS_KEY).trim(), p.get(SECRET_KEY).trim()};
    }

    /** Identifies the stored LUN (endpoint, bucket, prefix) in the names of its local files. */
    String localId() {
        String id = endpoint + "\n" + bucket + "\n" + prefix;
        return SigV4.sha256Hex(id.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 12);
    }

    /** s3://bucket/prefix at endpoint. */
    String where() {
        return "s3://" + bucket + "/" + prefix + " at " + endpoint;
    }

    @Override
    public String toString() {
        return "S3Settings[" + where() + ", size=" + size + ", object_size=" + objectSize + ", access_key=" + accessKey
                + ", secret_key=***]";
    }
}
