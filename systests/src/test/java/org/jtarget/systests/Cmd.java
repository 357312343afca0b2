package org.jtarget.systests;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs an external program to completion with a timeout; output goes to files, so no pipe can fill up. */
final class Cmd {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private Cmd() {
    }

    /** What a finished program left: its exit status and its output. */
    record Result(List<String> argv, int exit, String out, String err) {
        boolean ok() {
            return exit == 0;
        }

        /** For assertion messages: the command line, the status and everything it printed. */
        String describe() {
            return String.join(" ", argv) + "\n  exit " + exit + "\n  stdout: " + out.strip().replace("\n", "\n          ")
                    + "\n  stderr: " + err.strip().replace("\n", "\n          ");
        }
    }

    static Result run(String... argv) {
        return run(DEFAULT_TIMEOUT, argv);
    }

    /**
     * Runs {@code argv} with stdin from /dev/null. A program still running after {@code timeout} is killed
     * (with its children) and the test fails with what it printed so far.
     */
    static Result run(Duration timeout, String... argv) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("systests-", ".out");
            err = Files.createTempFile("systests-", ".err");
            Process p = new ProcessBuilder(argv)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", argv)
                        + "\n  stdout: " + Files.readString(out) + "\n  stderr: " + Files.readString(err));
            }
            return new Result(List.of(argv), p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", argv) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + argv[0], e);
        } finally {
            delete(out);
            delete(err);
        }
    }

    /** Skips the calling test (with the reason printed) unless {@code tool} is an executable on PATH. */
    static void assumeInstalled(String tool, String debianPackage) {
        Assumptions.assumeTrue(onPath(tool),
                () -> tool + " is not installed (apt-get install " + debianPackage + "): test skipped");
    }

    static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** qemu-io and qemu-img reach iSCSI only through the block-iscsi module (Debian qemu-block-extra). */
    static void assumeQemuIscsi() {
        assumeInstalled("qemu-io", "qemu-utils");
        assumeInstalled("qemu-img", "qemu-utils");
        Result help = run("qemu-img", "--help");
        Assumptions.assumeTrue(help.out().matches("(?s).*Supported formats:.*\\biscsi\\b.*"),
                "qemu has no iscsi block driver (apt-get install qemu-block-extra): test skipped");
    }

    private static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }

    private static void delete(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }
}
