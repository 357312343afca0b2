package org.jtarget.backstore.nbd.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real NBD server (nbdkit or nbd-server from Debian) on 127.0.0.1 and a free port, started by a test and
 * stopped by its PID. Tests that need one are skipped, with the reason printed, when it is not installed.
 */
final class ServerProcess implements AutoCloseable {
    private final List<String> command;
    private final Path pidFile; // nbd-server daemonizes: its PID comes from this file
    private final Path socket; // a Unix domain socket instead of a TCP port, or null
    private final Path log;
    final int port;
    private long pid = -1;

    private ServerProcess(List<String> command, Path pidFile, Path log, int port) {
        this(command, pidFile, log, port, null);
    }

    private ServerProcess(List<String> command, Path pidFile, Path log, int port, Path socket) {
        this.socket = socket;
        this.command = command;
        this.pidFile = pidFile;
        this.log = log;
        this.port = port;
    }

    static void assumeInstalled(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            found |= Files.isExecutable(Path.of(dir, tool));
        }
        if (!found) {
            System.out.println("skipped: " + tool + " is not installed (Debian package " + tool
                    + "; ./test.sh installs it)");
        }
        Assumptions.assumeTrue(found, tool + " is not installed");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code nbdkit -f -i 127.0.0.1 -p PORT PLUGIN ARGS...}, in the foreground. */
    static ServerProcess nbdkit(Path dir, String... plugin) throws IOException {
        assumeInstalled("nbdkit");
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent", "-i", "127.0.0.1",
                "-p", Integer.toString(port)));
        cmd.addAll(List.of(plugin));
        ServerProcess p = new ServerProcess(cmd, null, dir.resolve("nbdkit-" + port + ".log"), port);
        p.start();
        return p;
    }

    /** {@code nbdkit -f -U SOCKET PLUGIN ARGS...}: on a Unix domain socket. */
    static ServerProcess nbdkitUnix(Path socket, Path dir, String... plugin) throws IOException {
        assumeInstalled("nbdkit");
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent", "-U", socket.toString()));
        cmd.addAll(List.of(plugin));
        ServerProcess p = new ServerProcess(cmd, null, dir.resolve("nbdkit-unix.log"), 0, socket);
        p.start();
        return p;
    }

    /** nbd-server serving {@code image} as export {@code disk}, configured by a file (it daemonizes). */
    static ServerProcess nbdServer(Path dir, Path image) throws IOException {
        assumeInstalled("nbd-server");
        int port = freePort();
        Path conf = dir.resolve("nbd-server-" + port + ".conf");
        Files.writeString(conf, "[generic]\n    listenaddr = 127.0.0.1\n    port = " + port + "\n"
                + "[disk]\n    exportname = " + image.toAbsolutePath() + "\n");
        Path pid = dir.resolve("nbd-server-" + port + ".pid");
        ServerProcess p = new ServerProcess(List.of("nbd-server", "-C", conf.toString(), "-p", pid.toString()),
                pid, dir.resolve("nbd-server-" + port + ".log"), port);
        p.start();
        return p;
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + port + "/" + export;
    }

    /** Starts the server (again, after {@link #kill()}) and waits until it accepts connections. */
    void start() throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        if (pidFile != null) {
            while (!Files.exists(pidFile) || Files.readString(pidFile).isBlank()) {
                check(deadline, "no PID file " + pidFile);
            }
            pid = Long.parseLong(Files.readString(pidFile).trim());
        } else {
            pid = process.pid();
        }
        while (true) {
            if (socket != null) {
                try (var s = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
                    return;
                } catch (IOException e) {
                    check(deadline, "not listening on " + socket);
                }
                continue;
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                check(deadline, "not listening on 127.0.0.1:" + port);
            }
        }
    }

    private void check(long deadline, String what) throws IOException {
        if (System.nanoTime() > deadline) {
            close();
            throw new IOException(command.get(0) + " did not start: " + what + "; log: " + Files.readString(log));
        }
        try {
            Thread.sleep(20); // polling a condition with a deadline
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** SIGKILL, as a crash would; waits until the process is gone. */
    void kill() {
        stop(true);
    }

    private void stop(boolean hard) {
        if (pid < 0) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(h -> {
            if (hard) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
            h.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        });
        pid = -1;
        if (pidFile != null) {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                // the next start waits for a new one anyway
            }
        }
    }

    @Override
    public void close() {
        stop(false);
    }
}
