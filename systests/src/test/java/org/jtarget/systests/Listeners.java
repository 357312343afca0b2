package org.jtarget.systests;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whose listening sockets are on a port, from the kernel's socket tables ({@code /proc/net/tcp}, {@code tcp6}) and
 * a process's file descriptors. A connection probe cannot tell "the process still listens" from "another process
 * took the freed port meanwhile", which an ephemeral port allows at any time (a CI run failed so once).
 */
final class Listeners {
    private Listeners() {
    }

    /** Whether the tables can be read here (Linux); elsewhere callers fall back to a connection probe. */
    static boolean readable(long pid) {
        return Files.isReadable(Path.of("/proc/net/tcp")) && Files.isDirectory(Path.of("/proc/" + pid + "/fd"));
    }

    /** Whether process {@code pid} holds a listening TCP socket on {@code port} (any address). */
    static boolean listens(long pid, int port) throws IOException {
        Set<String> sockets = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds) {
                try {
                    sockets.add(Files.readSymbolicLink(fd).toString());
                } catch (IOException closedMeanwhile) {
                    // closed since the listing
                }
            }
        }
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.isReadable(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":") || !"0A".equals(f[3])) {
                    continue; // the header, or not a listening socket
                }
                int p = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                if (p == port && sockets.contains("socket:[" + f[9] + "]")) {
                    return true;
                }
            }
        }
        return false;
    }
}
