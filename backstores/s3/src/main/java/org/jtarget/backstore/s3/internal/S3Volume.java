package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The objects of one LUN under a prefix of a bucket:
 * <ul>
 * <li>{@code PREFIX} + 16 hex digits: object {@code n} of the LUN (absent: zeros);</li>
 * <li>{@code PREFIX jtarget.json}: size, block size and object size, written at creation and checked at every
 * open, so that the LUN opens without listing the bucket;</li>
 * <li>{@code PREFIX jtarget.lease}: who has the LUN open ({@link #acquireLease}).</li>
 * </ul>
 */
final class S3Volume implements ObjectStore {
    static final String METADATA = "jtarget.json";
    static final String LEASE = "jtarget.lease";
    private static final Pattern OBJECT_KEY = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern OWNER = Pattern.compile("\"owner\"\\s*:\\s*\"([^\"]*)\"");

    /** What jtarget.json records. */
    record Geometry(long size, int blockSize, int objectSize) {
        String json() {
            return "{\"format\":1,\"size\":" + size + ",\"block_size\":" + blockSize + ",\"object_size\":" + objectSize + "}\n";
        }

        static Geometry parse(String json) throws IOException {
            return new Geometry(number(json, "size"), (int) number(json, "block_size"), (int) number(json, "object_size"));
        }

        private static long number(String json, String field) throws IOException {
            Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*(\\d+)").matcher(json);
            if (!m.find()) {
                throw new IOException(METADATA + ": field " + field + " missing");
            }
            return Long.parseLong(m.group(1));
        }
    }

    /** A lease held by someone else. */
    static final class LeaseHeld extends Exception {
        private static final long serialVersionUID = 1L;

        LeaseHeld(String message) {
            super(message);
        }
    }

    private final S3Client client;
    private final String prefix;

    S3Volume(S3Client client, String prefix) {
        this.client = client;
        this.prefix = prefix;
    }

    String key(long object) {
        return prefix + String.format(Locale.ROOT, "%016x", object);
    }

    String prefix() {
        return prefix;
    }

    @Override
    public String describe() {
        return client.describe() + " prefix " + prefix;
    }

    @Override
    public byte[] read(long object) throws IOException {
        S3Client.Obj o = client.get(key(object));
        return o == null ? null : o.data();
    }

    @Override
    public void write(long object, java.nio.ByteBuffer data) throws IOException {
        client.put(key(object), data, false);
    }

    @Override
    public void delete(long object) throws IOException {
        client.delete(key(object));
    }

    @Override
    public boolean exists(long object) throws IOException {
        return client.exists(key(object));
    }

    /** The stored geometry, or null when the LUN has never been created (no jtarget.json). */
    Geometry geometry() throws IOException {
        S3Client.Obj o = client.get(prefix + METADATA);
        return o == null ? null : Geometry.parse(new String(o.data(), StandardCharsets.UTF_8));
    }

    void writeGeometry(Geometry g) throws IOException {
        client.put(prefix + METADATA, g.json().getBytes(StandardCharsets.UTF_8), false);
    }

    /**
     * Takes the lease for {@code owner} (the id of this backstore object in this instance's home). A lease of
     * the same owner (left by a crash) is taken over. Where the server honours {@code If-None-Match: *} on PUT
     * the lease is created atomically; where it ignores it (S3Proxy 2.6.0), two openers racing within the same
     * moment could both win the PUT, so the lease is read back and must name us.
     *
     * @param content the lease's JSON, with {@code "owner":"<owner>"} and who/where for the message of a refusal
     */
    void acquireLease(String owner, String content) throws IOException, LeaseHeld {
        String key = prefix + LEASE;
        S3Client.Obj current = client.get(key);
        if (current != null && !owner.equals(owner(current))) {
            throw held(current);
        }
        byte[] body = content.getBytes(StandardCharsets.UTF_8);
        if (!client.put(key, body, current == null)) {
            throw held(client.get(key)); // 412: someone created it since we looked
        }
        S3Client.Obj check = client.get(key);
        if (check == null || !owner.equals(owner(check))) {
            throw held(check);
        }
    }

    /** Deletes the lease if it is still ours. */
    void releaseLease(String owner) throws IOException {
        String key = prefix + LEASE;
        S3Client.Obj current = client.get(key);
        if (current != null && owner.equals(owner(current))) {
            client.delete(key);
        }
    }

    /** The holder of the lease when it is not {@code owner}, else null (free or ours). */
    String leaseHolder(String owner) throws IOException {
        S3Client.Obj current = client.get(prefix + LEASE);
        if (current == null || owner.equals(owner(current))) {
            return null;
        }
        return new String(current.data(), StandardCharsets.UTF_8).trim();
    }

    /** Deletes every object of the LUN (only keys of our own naming under the prefix), then jtarget.json. */
    int destroy() throws IOException {
        int n = 0;
        for (String k : client.list(prefix)) {
            String rest = k.substring(prefix.length());
            if (OBJECT_KEY.matcher(rest).matches()) {
                client.delete(k);
                n++;
            }
        }
        client.delete(prefix + METADATA);
        return n;
    }

    private static String owner(S3Client.Obj o) {
        Matcher m = OWNER.matcher(new String(o.data(), StandardCharsets.UTF_8));
        return m.find() ? m.group(1) : "";
    }

    private LeaseHeld held(S3Client.Obj o) {
        String who = o == null ? "(lease vanished while taking it)" : new String(o.data(), StandardCharsets.UTF_8).trim();
        return new LeaseHeld(describe() + ": in use by another jtarget instance (lease " + prefix + LEASE + ": " + who
                + "); if that instance is gone for good, delete the object " + prefix + LEASE);
    }
}
