package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;

/**
 * A real S3 server for tests: S3Proxy 2.6.0 (Maven test dependency, run as its own process) on 127.0.0.1 and a
 * free port, filesystem backend (bucket = folder under {@link #basedir()}, object = file), SigV4/V2
 * authentication on. Stopped by PID.
 */
final class S3ProxyServer implements AutoCloseable {
    static final String ACCESS_KEY = "jtarget-test";
    static final String SECRET_KEY = "s3cr3t-Test-Key-0123456789";

    private final Process process;
    private final int port;
    private final Path basedir;

    private S3ProxyServer(Process process, int port, Path basedir) {
        this.process = process;
        this.port = port;
        this.basedir = basedir;
    }

    static S3ProxyServer start(Path dir) throws IOException, InterruptedException {
        return start(dir, null);
    }

    /**
     * @param virtualHost null, or the host name under which S3Proxy also takes virtual-host requests
     *                    ({@code BUCKET.virtualHost}, from the Host header)
     */
    static S3ProxyServer start(Path dir, String virtualHost) throws IOException, InterruptedException {
        String jar = System.getProperty("s3proxy.jar");
        if (jar == null || !Files.isRegularFile(Paths.get(jar))) {
            // surefire does not show why a class was skipped in @BeforeAll: say it here
            String why = "S3Proxy jar not found (system property s3proxy.jar=" + jar + "): run the tests through Maven";
            System.out.println("skipped: " + why);
            assumeTrue(false, why);
        }
        Path basedir = Files.createDirectories(dir.resolve("s3data"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + basedir,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                virtualHost == null ? "" : "s3proxy.virtual-host=" + virtualHost, ""));
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xmx256m", "-jar", jar, "--properties", props.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
        S3ProxyServer server = new S3ProxyServer(p, port, basedir);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return server;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    server.close();
                    throw new IOException("S3Proxy did not start on 127.0.0.1:" + port + ": "
                            + Files.readString(dir.resolve("s3proxy.log")));
                }
                Thread.sleep(50); // polling a port with a deadline
            }
        }
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    Path basedir() {
        return basedir;
    }

    /** Creates a bucket the filesystem backend's way: a folder. */
    Path bucket(String name) throws IOException {
        return Files.createDirectories(basedir.resolve(name));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
