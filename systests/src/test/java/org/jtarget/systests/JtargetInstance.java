package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One jtarget process started from the assembled distribution: {@code bin/jtarget --home HOME --portal
 * 127.0.0.1:PORT} with stdin not a terminal (daemon mode), console output appended to {@code console.log}
 * beside the home. Stopped by its PID: SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}.
 */
final class JtargetInstance implements AutoCloseable {
    static final String DEFAULT_IQN = "iqn.2026-11.org.jtarget:default";
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Path launcher;
    private final Path dir;
    private final Path home;
    private final int port;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Process process;

    private JtargetInstance(Path launcher, Path dir, int port) {
        this.launcher = launcher;
        this.dir = dir;
        this.home = dir.resolve("home");
        this.port = port;
    }

    /** A new instance with an empty home in a fresh work directory named after {@code name}, on a free port. */
    static JtargetInstance create(String name) throws IOException {
        Path dist = Path.of(System.getProperty("jtarget.distribution", "../distribution/target/jtarget"));
        Path launcher = dist.resolve("bin/jtarget").toAbsolutePath().normalize();
        if (!Files.isExecutable(launcher)) {
            fail("no distribution to test: " + launcher + " is missing (build it first: mvn -B install from the root)");
        }
        Path work = Path.of(System.getProperty("systests.work", "target/systests-work"));
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss-SSS"));
        Path dir = Files.createDirectories(work.resolve(name + "-" + stamp)).toAbsolutePath();
        return new JtargetInstance(launcher, dir, freePort());
    }

    /**
     * A port on 127.0.0.1 that nothing listens on, chosen below Linux's ephemeral range (32768-60999 by default), as
     * bench/free-port.sh does: the port stays free for the seconds until jtarget binds it, whereas a freed ephemeral
     * port may be given to any client connection on the machine meanwhile.
     */
    static int freePort() throws IOException {
        for (int i = 0; i < 200; i++) {
            int port = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // in use: another one
            }
        }
        throw new IOException("no free port on 127.0.0.1 in 20000-31999 after 200 tries");
    }

    int port() {
        return port;
    }

    Path home() {
        return home;
    }

    /** {@code 127.0.0.1:PORT}, the portal this instance serves its default target on. */
    String portal() {
        return "127.0.0.1:" + port;
    }

    /** The libiscsi URL of a LUN of the default target. */
    String url(int lun) {
        return url(DEFAULT_IQN, lun);
    }

    String url(String iqn, int lun) {
        return "iscsi://" + portal() + "/" + iqn + "/" + lun;
    }

    long pid() {
        return process.pid();
    }

    /** Whether the started process is still running. */
    boolean alive() {
        return process != null && process.isAlive();
    }

    /** The work directory: {@code home/} and {@code console.log}. */
    Path dir() {
        return dir;
    }

    /**
     * Sets an environment variable for the next {@link #start}, e.g. {@code JTARGET_JAVA_OPTS} (extra JVM
     * options, read by {@code bin/jtarget}).
     */
    JtargetInstance environment(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /**
     * Starts the process and waits until LUN 0 of the default target answers INQUIRY (or, without
     * iscsi-inq, until the portal accepts connections). Fails with the console tail if it exits or times out.
     */
    JtargetInstance start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running: pid " + process.pid());
        }
        Files.createDirectories(home);
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "--home", home.toString(), "--portal",
                portal());
        builder.environment().putAll(environment);
        process = builder
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile()))
                .start();
        // if this test JVM is itself stopped (failsafe's fork timeout sends SIGTERM), take the target along
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (started.isAlive()) {
                started.descendants().forEach(ProcessHandle::destroyForcibly);
                started.destroyForcibly();
            }
        }, "stop jtarget pid " + started.pid()));
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        boolean inq = Cmd.onPath("iscsi-inq");
        while (true) {
            if (!process.isAlive()) {
                fail("jtarget exited during start-up with status " + process.exitValue() + "\n" + consoleTail());
            }
            if (accepts() && (!inq || Cmd.run(Duration.ofSeconds(15), "iscsi-inq", url(0)).ok())) {
                return this;
            }
            if (System.nanoTime() > deadline) {
                String tail = consoleTail();
                stop();
                fail("jtarget not serving " + url(0) + " after " + START_TIMEOUT.toSeconds() + " s\n" + tail);
            }
            Thread.sleep(300);
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Sends SIGTERM to the process (and any child a wrapper script left), waits up to {@link #STOP_TIMEOUT},
     * then SIGKILLs what remains. Idempotent.
     *
     * @return true when it exited on SIGTERM alone (a clean shutdown)
     */
    boolean stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return true;
        }
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy(); // SIGTERM
        children.forEach(ProcessHandle::destroy);
        boolean clean = process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (!clean) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle c : children) {
            if (c.isAlive()) {
                clean = false;
                c.destroyForcibly();
            }
        }
        return clean;
    }

    /** {@code bin/jtarget --home HOME exec COMMAND}: one Gogo command line in the running instance. */
    Cmd.Result exec(String command) {
        return Cmd.run(Duration.ofSeconds(60), launcher.toString(), "--home", home.toString(), "exec", command);
    }

    /** Like {@link #exec} but fails the test unless the command succeeded. */
    String execOk(String command) {
        Cmd.Result r = exec(command);
        if (!r.ok()) {
            fail("exec failed: " + r.describe());
        }
        return r.out();
    }

    /**
     * Configures a CHAP-only target: {@code iqn} with TPG 1, LUN 0 a new 64 MiB memory backstore
     * {@code backstore}, no demo mode, one ACL for {@code initiator} with one-way CHAP, and last (so that it serves
     * only once fully configured) the portal {@code portal}.
     */
    void createChapTarget(String iqn, String backstore, String initiator, String user, String secret,
                          String portal) {
        execOk("backstore:create " + backstore + " memory size=64M");
        execOk("target:create " + iqn);
        execOk("tpg:create " + iqn + " 1");
        execOk("lun:add " + iqn + " 1 0 " + backstore);
        execOk("tpg:set " + iqn + " 1 generate_node_acls false");
        execOk("tpg:set " + iqn + " 1 authentication chap");
        execOk("acl:add " + iqn + " 1 " + initiator);
        execOk("acl:chap " + iqn + " 1 " + initiator + " " + user + " " + secret);
        execOk("portal:add " + iqn + " 1 " + portal);
    }

    String consoleTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("console.log"), StandardCharsets.UTF_8);
            return "console.log (" + dir + "), last lines:\n  "
                    + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "no console.log in " + dir;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
