package org.jtarget.shell.internal.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jtarget.shell.internal.ShellTestAccess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec channel end to end: real Gogo runtime, the shell's commands, ExecClient's code over the socket. */
class ControlChannelTest {
    static final String IQN = "iqn.2026-11.org.jtarget:disk1";

    @TempDir
    Path home;
    ShellTestAccess shell;
    ControlServer server;

    /** A command with a result, a long output, and one that waits, to check formatting, framing and concurrency. */
    public static final class Probe {
        final CountDownLatch release = new CountDownLatch(1);

        public List<Object> answer() {
            return List.of(42, "text");
        }

        public void flood(String bytes) {
            int n = Integer.parseInt(bytes);
            StringBuilder sb = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                sb.append((char) ('a' + i % 26));
            }
            System.out.print(sb);
            System.err.print("done");
        }

        public void crash() {
            throw new NullPointerException("boom");
        }

        public void hold() throws InterruptedException {
            release.await(20, TimeUnit.SECONDS);
            System.out.println("released");
        }
    }

    final Probe probe = new Probe();

    record Exec(int status, String out, String err) {
    }

    @BeforeEach
    void start() throws IOException {
        shell = new ShellTestAccess();
        shell.processor().addCommand("probe", probe, "answer");
        shell.processor().addCommand("probe", probe, "flood");
        shell.processor().addCommand("probe", probe, "hold");
        shell.processor().addCommand("probe", probe, "crash");
        server = new ControlServer(shell.processor(), home);
        server.start();
    }

    @AfterEach
    void stop() {
        probe.release.countDown();
        server.close();
        shell.close();
    }

    Exec exec(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = home.toString();
        System.arraycopy(args, 0, all, 1, args.length);
        int status = ExecClient.run(all, out, err);
        return new Exec(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void socketIsPrivate() throws IOException {
        Path socket = home.resolve("run/control.sock");
        assertEquals(socket, server.socket());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("run"))));
    }

    @Test
    void aHomeTooLongForAUnixSocketPathIsExplained(@TempDir Path base) throws IOException {
        Path longHome = Files.createDirectories(base.resolve("h".repeat(ControlProtocol.MAX_SOCKET_PATH)));
        IOException e = assertThrows(IOException.class, () -> ControlProtocol.address(longHome));
        assertTrue(e.getMessage().contains("expected: at most 107"), e.getMessage());
    }

    @Test
    void commandsRunAndPrint() {
        Exec created = exec("target:create " + IQN);
        assertEquals(new Exec(0, "Created target " + IQN + " (fabric iscsi)\n", ""), created);
        // word by word, as a shell passes "$@"
        assertEquals(new Exec(0, "Created TPG 1 of " + IQN + "\n", ""), exec("tpg:create", IQN, "1"));
        assertEquals(new Exec(0, ""
                + "TARGET                         FABRIC  TPGS  PORTALS  LUNS  ACLS\n"
                + "iqn.2026-11.org.jtarget:disk1  iscsi      1        0     0     0\n", ""), exec("target:list"));
    }

    @Test
    void failuresExitNonZeroWithOneLine() {
        assertEquals(new Exec(1, "", "no such target: iqn.2026-11.org.jtarget:nope\n"),
                exec("target:show iqn.2026-11.org.jtarget:nope"));
        assertEquals(new Exec(1, "", "TPG tag: x (expected a number 1..65535)\n"), exec("tpg:create " + IQN + " x"));
        assertEquals(new Exec(1, "", "target:show: wrong number or type of arguments (see: help target:show)\n"),
                exec("target:show"));
        assertEquals(new Exec(1, "", "Command not found: nosuch:verb\n"), exec("nosuch:verb"));
        shell.processor().removeCommand("target", "list");
        assertEquals(new Exec(1, "", "Command not found: target:list (jtarget's commands are not available: the core"
                + " is still starting or failed to start; see logs/jtarget.log)\n"), exec("target:list"));
    }

    @Test
    void unexpectedErrorsAreOneLineToo() {
        assertEquals(new Exec(1, "", "java.lang.NullPointerException: boom (stack trace in the instance log)\n"),
                exec("probe:crash"));
    }

    @Test
    void aForeignRequestIsRefused() throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(server.socket()))) {
            OutputStream out = Channels.newOutputStream(c);
            byte[] junk = "GET / HTTP/1.0".getBytes(StandardCharsets.US_ASCII);
            ControlProtocol.writeFrame(out, (byte) 'G', junk, 0, junk.length);
            InputStream in = Channels.newInputStream(c);
            ControlProtocol.Frame err = ControlProtocol.readFrame(in, ControlProtocol.MAX_CHUNK);
            assertEquals(ControlProtocol.STDERR, err.type());
            assertTrue(new String(err.payload(), StandardCharsets.UTF_8).startsWith("jtarget: request type 71"));
            ControlProtocol.Frame exit = ControlProtocol.readFrame(in, ControlProtocol.MAX_CHUNK);
            assertEquals(ControlProtocol.EXIT, exit.type());
            assertEquals(ControlProtocol.STATUS_PROTOCOL, exit.status());
            assertEquals(null, ControlProtocol.readFrame(in, ControlProtocol.MAX_CHUNK), "then closed");
        }
        assertEquals(0, exec("target:list").status(), "still serving");
    }

    @Test
    void outputBeforeAFailureIsKept() {
        Exec r = exec("target:create " + IQN + "; tpg:create " + IQN + " 0");
        assertEquals(new Exec(1, "Created target " + IQN + " (fabric iscsi)\n", "TPG tag: 0 (expected 1..65535)\n"), r);
    }

    @Test
    void resultsAreFormattedLikeGosh() {
        Exec r = exec("probe:answer");
        assertEquals(0, r.status());
        assertEquals("42\ntext\n", r.out());
    }

    @Test
    void largeOutputArrivesWhole() {
        Exec r = exec("probe:flood 300000");
        assertEquals(0, r.status());
        assertEquals(300000, r.out().length());
        assertTrue(r.out().startsWith("abcdefghijklmnopqrstuvwxyzabc"));
        assertEquals('a' + (299999 % 26), r.out().charAt(299999));
        assertEquals("done", r.err());
    }

    @Test
    void commandsRunConcurrently() throws Exception {
        CompletableFuture<Exec> held = CompletableFuture.supplyAsync(() -> exec("probe:hold"));
        // while one command waits, another completes
        assertEquals(0, exec("target:list").status());
        assertFalse(held.isDone());
        probe.release.countDown();
        assertEquals(new Exec(0, "released\n", ""), held.get(20, TimeUnit.SECONDS));
    }

    @Test
    void noInstanceExitsTwo(@TempDir Path other) throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, ExecClient.exec(other, "target:list", new ByteArrayOutputStream(), err));
        assertEquals("jtarget: no instance is running in " + other + " (no control socket " + other
                + "/run/control.sock)\n", err.toString(StandardCharsets.UTF_8));

        // a socket file nobody listens on, as a killed instance leaves it
        Files.createDirectories(other.resolve("run"));
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(other.resolve("run/control.sock")));
        }
        err.reset();
        assertEquals(2, ExecClient.exec(other, "target:list", new ByteArrayOutputStream(), err));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("jtarget: no instance is running in " + other
                + " (nobody listens on"), err.toString(StandardCharsets.UTF_8));

        // an instance starting there clears the stale socket and serves
        try (ControlServer second = new ControlServer(shell.processor(), other)) {
            second.start();
            assertEquals(0, ExecClient.exec(other, "target:list", new ByteArrayOutputStream(), err));
        }
        assertFalse(Files.exists(other.resolve("run/control.sock")), "removed at close");
    }

    @Test
    void aSecondInstanceInTheSameHomeIsRefused() throws IOException {
        ControlServer second = new ControlServer(shell.processor(), home);
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().startsWith("another jtarget instance serves " + home), e.getMessage());
        assertEquals(0, exec("target:list").status(), "the first one still serves");
    }

    @Test
    void closeRemovesTheSocket() {
        server.close();
        assertFalse(Files.exists(home.resolve("run/control.sock")));
        assertEquals(2, exec("target:list").status());
    }

    @Test
    void usageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(64, ExecClient.run(new String[] {home.toString()}, new ByteArrayOutputStream(), err));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("usage: ExecClient HOME COMMAND"));
        assertEquals(64, exec("  ").status());
    }

    @Test
    void clientRunsOnABareJvm() throws Exception {
        exec("target:create " + IQN);
        // only the shell's own classes: no Gogo, OSGi or SLF4J on the class path
        Path classes = Path.of(ExecClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", classes.toString(),
                ExecClient.class.getName(), home.toString(), "target:show", IQN)
                .redirectErrorStream(false).start();
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "client finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), err);
            assertTrue(out.startsWith(IQN + "  [fabric iscsi]\n"), out);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly(); // this PID only
            }
        }
        Process failing = new ProcessBuilder(java.toString(), "-cp", classes.toString(),
                ExecClient.class.getName(), home.toString(), "target:delete", "iqn.2026-11.org.jtarget:nope").start();
        try {
            assertTrue(failing.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, failing.exitValue());
            assertEquals("no such target: iqn.2026-11.org.jtarget:nope\n",
                    new String(failing.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            if (failing.isAlive()) {
                failing.destroyForcibly();
            }
        }
    }
}
