package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * S3Proxy 2.6.0 (a test dependency of this module, run from the local Maven repository as its own process) on
 * 127.0.0.1: filesystem backend under {@code dir/s3data} (bucket = folder, object = file), SigV4/V2
 * authentication on. Can be stopped (by PID) and started again on the same port and data.
 */
final class S3Server implements AutoCloseable {
    static final String ACCESS_KEY = "systests";
    static final String SECRET_KEY = "Sys-S3cret-0123456789abcdef";

    private final Path dir;
    private final int port;
    private Process process;

    S3Server(Path dir) throws IOException {
        String jar = System.getProperty("s3proxy.jar", "");
        assumeTrue(Files.isRegularFile(Path.of(jar)), "S3Proxy jar not found (system property s3proxy.jar="
                + jar + "): run through Maven, which downloads org.gaul:s3proxy:2.6.0");
        this.dir = Files.createDirectories(dir);
        Files.createDirectories(data());
        this.port = JtargetInstance.freePort();
    }

    Path data() {
        return dir.resolve("s3data");
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    S3Server start() throws IOException, InterruptedException {
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n", "s3proxy.endpoint=" + endpoint(), "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data(), "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY, "s3proxy.credential=" + SECRET_KEY, ""));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        process = new ProcessBuilder(List.of(java.toString(), "-Xmx256m", "-jar", System.getProperty("s3proxy.jar"),
                "--properties", props.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("s3proxy.log").toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return this;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    stop();
                    fail("S3Proxy did not start on " + endpoint() + "; see " + dir.resolve("s3proxy.log"));
                }
                Thread.sleep(100);
            }
        }
    }

    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
