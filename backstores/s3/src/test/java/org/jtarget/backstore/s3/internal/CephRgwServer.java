package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Ceph RADOS Gateway for tests, from Debian's own packages (bookworm: Ceph 16.2.15 Pacific; {@code ceph-mon},
 * {@code ceph-osd}, {@code radosgw}, {@code ceph-common}): a throw-away cluster of one monitor and one OSD
 * ({@code memstore}: objects in memory, 1 GiB at most unless jtarget.ceph.memstore.bytes says otherwise), no
 * cephx, and radosgw's beast frontend, everything under {@code dir} and on 127.0.0.1 (free ports for the monitor
 * and the gateway; the OSD takes its own from Ceph's range). No manager daemon: the gateway does not need one. Each daemon runs in the foreground as a child of
 * the test, so it is stopped by PID in {@link #close()}; nothing is left outside {@code dir}.
 */
final class CephRgwServer implements AutoCloseable {
    static final String ACCESS_KEY = S3ProxyServer.ACCESS_KEY;
    static final String SECRET_KEY = S3ProxyServer.SECRET_KEY;
    private static final List<String> TOOLS = List.of("monmaptool", "ceph-mon", "ceph-osd", "radosgw",
            "radosgw-admin", "ceph", "rados");
    private static final Pattern MARKER = Pattern.compile("\"marker\": \"([^\"]+)\"");
    private static final Duration START = Duration.ofSeconds(120);
    /** The OSD's memory for objects: 1 GiB, or the system property jtarget.ceph.memstore.bytes (the bench's). */
    private static final long MEMSTORE_BYTES = Long.getLong("jtarget.ceph.memstore.bytes", 1L << 30);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private final Path dir;
    private final Path conf;
    private final int port;
    /** The running daemons by name, in start order: monitor, OSD, gateway. */
    private final Map<String, Process> daemons = new LinkedHashMap<>();
    /** Each bucket's marker, the prefix of its objects' names in RADOS. */
    private final Map<String, String> markers = new HashMap<>();

    private CephRgwServer(Path dir, int port) {
        this.dir = dir;
        this.conf = dir.resolve("ceph.conf");
        this.port = port;
    }

    /** Starts the cluster and the gateway and creates the S3 user {@link #ACCESS_KEY}; skips where Ceph is missing. */
    static CephRgwServer start(Path dir) throws IOException, InterruptedException {
        return start(dir, null);
    }

    /**
     * @param dnsName null, or the host name under which the gateway also takes virtual-host requests
     *                ({@code BUCKET.dnsName}, from the Host header: {@code rgw dns name})
     */
    static CephRgwServer start(Path dir, String dnsName) throws IOException, InterruptedException {
        for (String tool : TOOLS) {
            if (!onPath(tool)) {
                // surefire does not show why a class was skipped in @BeforeAll: say it here
                String why = tool + " not found on PATH: install the Debian packages ceph-mon ceph-osd radosgw "
                        + "ceph-common (./test.sh does) to test against Ceph RGW";
                System.out.println("skipped: " + why);
                assumeTrue(false, why);
            }
        }
        Files.createDirectories(dir);
        for (String d : List.of("mon", "osd", "run", "log", "rgw", "crash")) {
            Files.createDirectories(dir.resolve(d));
        }
        int monPort = freePort();
        CephRgwServer server = new CephRgwServer(dir, freePort());
        String fsid = UUID.randomUUID().toString();
        Files.writeString(server.conf, config(dir, fsid, monPort, server.port)
                + (dnsName == null ? "" : "rgw dns name = " + dnsName + "\n"));
        boolean started = false;
        long t0 = System.nanoTime();
        try {
            server.run("monmaptool", "--create", "--fsid", fsid, "--addv", "a", "[v2:127.0.0.1:" + monPort + "]",
                    dir.resolve("monmap").toString());
            server.run("ceph-mon", "-c", server.conf.toString(), "-i", "a", "--mkfs", "--monmap",
                    dir.resolve("monmap").toString());
            server.daemon("mon", "ceph-mon", "-i", "a");
            String osdUuid = UUID.randomUUID().toString();
            server.run("ceph", "-c", server.conf.toString(), "--connect-timeout", "60", "osd", "new", osdUuid);
            server.run("ceph-osd", "-c", server.conf.toString(), "-i", "0", "--mkfs", "--osd-uuid", osdUuid);
            server.daemon("osd", "ceph-osd", "-i", "0");
            server.daemon("rgw", "radosgw", "-n", "client.rgw");
            server.awaitGateway();
            server.run("radosgw-admin", "-c", server.conf.toString(), "user", "create", "--uid", "jtarget",
                    "--display-name", "jtarget tests", "--access-key", ACCESS_KEY, "--secret", SECRET_KEY);
            started = true;
            System.out.printf("Ceph RGW up at %s in %.1f s (monitor, OSD, gateway, user)%n", server.endpoint(),
                    (System.nanoTime() - t0) / 1e9);
            return server;
        } finally {
            if (!started) {
                server.close();
            }
        }
    }

    /**
     * One monitor and one OSD, pools of one copy and few placement groups (radosgw creates 7 pools; 32 each would
     * pass the monitor's 250 per OSD), crc instead of secure mode on the wire (without cephx radosgw finds no mode
     * for "secure crc" and is refused with EACCES), small thread pools, every path under {@code dir}.
     */
    private static String config(Path dir, String fsid, int monPort, int rgwPort) {
        return """
                [global]
                fsid = %1$s
                mon host = v2:127.0.0.1:%2$d
                public addr = 127.0.0.1
                ms bind msgr1 = false
                ms bind ipv6 = false
                auth cluster required = none
                auth service required = none
                auth client required = none
                ms mon client mode = crc
                ms client mode = crc
                ms mon service mode = crc
                ms service mode = crc
                ms mon cluster mode = crc
                ms cluster mode = crc
                keyring = /dev/null
                run dir = %3$s/run
                admin socket = %3$s/run/$name.asok
                pid file = %3$s/run/$name.pid
                log file = %3$s/log/$name.log
                mon cluster log file = %3$s/log/cluster.log
                crash dir = %3$s/crash
                osd pool default size = 1
                osd pool default min size = 1
                mon allow pool size one = true
                osd pool default pg num = 8
                osd pool default pgp num = 8
                osd pool default pg autoscale mode = off
                osd crush chooseleaf type = 0
                mon warn on pool no redundancy = false
                mon data avail crit = 0
                [mon.a]
                mon data = %3$s/mon
                [osd.0]
                osd data = %3$s/osd
                osd objectstore = memstore
                memstore device bytes = %5$d
                osd op num shards = 1
                osd op num threads per shard = 2
                [client.rgw]
                rgw frontends = beast endpoint=127.0.0.1:%4$d
                rgw data = %3$s/rgw
                rgw thread pool size = 8
                """.formatted(fsid, monPort, dir, rgwPort, MEMSTORE_BYTES);
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /** The daemons' process ids, space-separated, in start order. */
    String pids() {
        return String.join(" ", daemons.values().stream().map(p -> Long.toString(p.pid())).toList());
    }

    /** Creates a bucket through S3 (PUT /BUCKET/) as the test user. */
    void bucket(String name) throws IOException {
        new S3Client(S3ClientTest.HTTP, URI.create(endpoint()), name, true,
                new SigV4(ACCESS_KEY, SECRET_KEY, "us-east-1"), 1, 0).put("", new byte[0], false);
    }

    /** Waits until the gateway answers HTTP (it creates its pools first), or fails with the daemons' logs. */
    private void awaitGateway() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(endpoint() + "/")).timeout(Duration.ofSeconds(5)).build();
        while (true) {
            try {
                if (S3ClientTest.HTTP.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            for (Map.Entry<String, Process> d : daemons.entrySet()) {
                if (!d.getValue().isAlive()) {
                    throw new IOException(d.getKey() + " exited with " + d.getValue().exitValue() + " while starting: "
                            + logs());
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("radosgw did not answer on " + endpoint() + " within " + START.toSeconds()
                        + " s: " + logs());
            }
            Thread.sleep(100); // polling a port with a deadline
        }
    }

    private void daemon(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(args[0], "-c", conf.toString(), "-f"));
        cmd.addAll(List.of(args).subList(1, args.length));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").resolve(name + ".out").toFile()).start();
        daemons.put(args[0], p);
        // close() stops it; this covers a test JVM that exits without reaching close() (killed, System.exit)
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "stop " + args[0] + " " + p.pid()));
    }

    /** Runs a command to its end (at most {@link #COMMAND}); fails with its output unless it exits with 0. */
    private String run(String... cmd) throws IOException, InterruptedException {
        Exit e = exec(cmd);
        if (e.status() != 0) {
            throw new IOException(shown(cmd) + ": exit " + e.status() + ": " + e.output());
        }
        return e.output();
    }

    /** The command line for a message, with the value of {@code --secret} as {@code ***}. */
    private static String shown(String... cmd) {
        StringBuilder s = new StringBuilder(cmd[0]);
        for (int i = 1; i < cmd.length; i++) {
            s.append(' ').append("--secret".equals(cmd[i - 1]) ? "***" : cmd[i]);
        }
        return s.toString();
    }

    private record Exit(int status, String output) {
    }

    private Exit exec(String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir.resolve("log"), cmd[0], ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(COMMAND.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IOException(shown(cmd) + ": no end within " + COMMAND.toSeconds() + " s: " + logs());
        }
        return new Exit(p.exitValue(), Files.readString(out));
    }

    /**
     * What RADOS itself holds for an object of the gateway, read with the {@code rados} tool, not through S3: the
     * head object {@code MARKER_KEY} in the data pool (the whole object up to 4 MiB), or null if there is none.
     */
    byte[] stored(String bucket, String key) throws IOException, InterruptedException {
        String marker = markers.get(bucket);
        if (marker == null) {
            Matcher m = MARKER.matcher(run("radosgw-admin", "-c", conf.toString(), "bucket", "stats", "--bucket", bucket));
            if (!m.find()) {
                throw new IOException("radosgw-admin bucket stats --bucket " + bucket + ": no marker");
            }
            marker = m.group(1);
            markers.put(bucket, marker);
        }
        Path copy = dir.resolve("rados.get");
        Files.deleteIfExists(copy);
        Exit e = exec("rados", "-c", conf.toString(), "-p", "default.rgw.buckets.data", "get", marker + "_" + key,
                copy.toString());
        if (e.status() != 0 && e.output().contains("No such file or directory")) {
            return null;
        }
        if (e.status() != 0) {
            throw new IOException("rados get " + marker + "_" + key + ": exit " + e.status() + ": " + e.output());
        }
        return Files.readAllBytes(copy);
    }

    /** The ends of the daemons' logs, for a failure message. */
    private String logs() throws IOException {
        StringBuilder s = new StringBuilder();
        for (String name : List.of("mon.a.log", "osd.0.log", "client.rgw.log")) {
            s.append("\n--- ").append(name).append(":\n").append(tail(dir.resolve("log").resolve(name)));
        }
        return s.toString();
    }

    private static String tail(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return "(none)";
        }
        List<String> lines = Files.readAllLines(file);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Paths.get(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Stops the gateway, then the OSD (while the monitor is still there to hear it go: without it the OSD waits
     * 5 s), then the monitor, each by SIGTERM and after 20 s by SIGKILL.
     */
    @Override
    public void close() throws InterruptedException {
        long t0 = System.nanoTime();
        List<Process> running = new ArrayList<>(daemons.values());
        for (int i = running.size() - 1; i >= 0; i--) {
            Process p = running.get(i);
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        if (!running.isEmpty()) {
            System.out.printf("Ceph RGW stopped in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        daemons.clear();
    }
}
