package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** nbdkit started by a test on 127.0.0.1 (stopped by its Process, i.e. its PID, in the test's cleanup). */
final class Nbdkit {
    private Nbdkit() {
    }

    /**
     * Starts {@code nbdkit -f --exit-with-parent -i 127.0.0.1 -p PORT ARGS...} (plugin, filters and parameters in
     * {@code args}), its output appended to {@code log}; returns once it accepts connections.
     */
    static Process start(Path log, int port, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent", "-i", "127.0.0.1", "-p",
                Integer.toString(port)));
        command.addAll(List.of(args));
        Process nbdkit = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return nbdkit;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !nbdkit.isAlive()) {
                    fail("nbdkit did not start: " + Files.readString(log));
                }
                Thread.sleep(20); // polling a condition with a deadline
            }
        }
    }
}
