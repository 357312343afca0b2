package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A Debian 12 guest under {@code qemu-system-x86_64 -accel tcg} (no KVM needed) booted from the image that
 * {@code systests/vm/build-image.sh} builds, driven through its serial console: the guest's init reads one
 * command per line ("ID BASE64") and answers with the output, then "@@DONE ID STATUS". User-mode networking:
 * the guest reaches the host's 127.0.0.1 as {@link #HOST}. Everything the console printed goes to a log file.
 */
final class KernelGuest implements AutoCloseable {
    /** The host's loopback as the guest sees it (qemu user-mode networking). */
    static final String HOST = "10.0.2.2";
    static final Duration BUILD_TIMEOUT = Duration.ofMinutes(30);
    static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);
    private static final Pattern DONE = Pattern.compile("@@DONE (\\d+) (\\d+)");

    /** A finished guest command: its exit status and what it printed (stdout and stderr). */
    record Result(String command, int exit, String out) {
        boolean ok() {
            return exit == 0;
        }

        String describe() {
            return "guest: " + command + "\n  exit " + exit + "\n  output: " + out.strip().replace("\n", "\n          ");
        }
    }

    private final Process qemu;
    private final Writer log;
    private final OutputStream console;
    private final List<String> lines = new ArrayList<>();
    private int nextId = 1;

    private KernelGuest(Process qemu, Writer log) {
        this.qemu = qemu;
        this.log = log;
        this.console = qemu.getOutputStream();
        Thread reader = new Thread(this::readConsole, "console of qemu pid " + qemu.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Skips the calling test unless it runs as root with qemu-system-x86_64 and debootstrap installed
     * ({@code ./test.sh} installs them), then builds the image or takes it from the cache.
     *
     * @return the directory with vmlinuz, initrd.img and root.img
     */
    static Path image(Path script) {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "not root: debootstrap cannot build the guest image, kernel initiator tests skipped");
        Cmd.assumeInstalled("qemu-system-x86_64", "qemu-system-x86");
        Assumptions.assumeTrue(Cmd.onPath("debootstrap") || Files.isExecutable(Path.of("/usr/sbin/debootstrap")),
                "debootstrap is not installed (apt-get install debootstrap): kernel initiator tests skipped");
        long t0 = System.nanoTime();
        Cmd.Result r = Cmd.run(BUILD_TIMEOUT, "bash", script.toAbsolutePath().toString());
        if (!r.ok()) {
            fail("guest image build failed: " + r.describe());
        }
        String[] out = r.out().strip().split("\n");
        Path dir = Path.of(out[out.length - 1]);
        System.out.printf("guest image %s ready in %d s%n%s", dir, (System.nanoTime() - t0) / 1_000_000_000L, r.err());
        return dir;
    }

    /** Boots the guest (1 GiB, one CPU, root image in snapshot mode so the cache stays pristine) until its init is ready. */
    static KernelGuest boot(Path image, Path consoleLog) throws IOException {
        List<String> argv = List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1",
                "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                "-kernel", image.resolve("vmlinuz").toString(), "-initrd", image.resolve("initrd.img").toString(),
                "-append", "console=ttyS0 root=/dev/vda rw rootfstype=ext4 init=/sbin/jtarget-init quiet panic=-1"
                        + " net.ifnames=0 mitigations=off",
                "-drive", "file=" + image.resolve("root.img") + ",format=raw,if=virtio,snapshot=on",
                "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0");
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "stop qemu pid " + p.pid()));
        KernelGuest guest = new KernelGuest(p, Files.newBufferedWriter(consoleLog, StandardCharsets.UTF_8));
        long t0 = System.nanoTime();
        String ready;
        try {
            ready = guest.await(l -> l.startsWith("@@READY"), 0, BOOT_TIMEOUT, "boot");
        } catch (RuntimeException | Error e) { // e.g. the boot timed out: no guest for the caller to close, stop qemu here
            p.destroyForcibly(); // SIGKILL by its PID
            throw e;
        }
        System.out.printf("guest booted (%s) in %d s, qemu pid %d%n", ready, (System.nanoTime() - t0) / 1_000_000_000L,
                p.pid());
        return guest;
    }

    long pid() {
        return qemu.pid();
    }

    private void readConsole() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                line = line.replace("\r", "");
                synchronized (this) {
                    lines.add(line);
                    log.write(line);
                    log.write('\n');
                    log.flush();
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // qemu ended: run() reports it
        }
        synchronized (this) {
            lines.add("@@EXIT qemu ended");
            notifyAll();
        }
    }

    private interface LineMatch {
        boolean test(String line);
    }

    /** Waits for a console line from index {@code from} on that matches, failing with the console tail after {@code timeout}. */
    private synchronized String await(LineMatch match, int from, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < lines.size(); i++) {
                if (match.test(lines.get(i))) {
                    return lines.get(i);
                }
                if (lines.get(i).startsWith("@@EXIT")) {
                    fail("qemu ended during " + what + "\n" + tail());
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail(what + ": no answer from the guest after " + timeout.toSeconds() + " s\n" + tail());
            }
            try {
                wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted during " + what, e);
            }
        }
    }

    /** Runs {@code command} with bash in the guest and returns its status and output; fails after {@code timeout}. */
    Result run(Duration timeout, String command) {
        String encoded = Base64.getEncoder().encodeToString(command.getBytes(StandardCharsets.UTF_8));
        if (encoded.length() > 3500) { // the console's line discipline holds 4095 characters
            throw new IllegalArgumentException("guest command too long for one console line: " + command.length());
        }
        int id;
        int from;
        synchronized (this) {
            id = nextId++;
            from = lines.size();
        }
        try {
            console.write((id + " " + encoded + "\n").getBytes(StandardCharsets.US_ASCII));
            console.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to the console of qemu pid " + qemu.pid(), e);
        }
        String done = await(l -> {
            Matcher m = DONE.matcher(l);
            return m.find() && Integer.parseInt(m.group(1)) == id;
        }, from, timeout, command);
        synchronized (this) {
            int end = lines.indexOf(done);
            StringBuilder out = new StringBuilder();
            for (int i = from; i < end; i++) {
                out.append(lines.get(i)).append('\n');
            }
            Matcher m = DONE.matcher(done);
            m.find();
            return new Result(command, Integer.parseInt(m.group(2)), out.toString());
        }
    }

    /** Like {@link #run} but fails the test unless the command exits 0. */
    String ok(Duration timeout, String command) {
        Result r = run(timeout, command);
        if (!r.ok()) {
            fail(r.describe() + "\n  dmesg tail:\n" + run(Duration.ofSeconds(30), "dmesg | tail -25").out());
        }
        return r.out();
    }

    /** Writes {@code content} to {@code path} in the guest (a few console lines of base64). */
    void write(String path, String content) {
        String b64 = Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8));
        ok(Duration.ofSeconds(30), ": > " + path);
        for (int i = 0; i < b64.length(); i += 2000) {
            ok(Duration.ofSeconds(30), "echo " + b64.substring(i, Math.min(b64.length(), i + 2000)) + " >> " + path + ".b64");
        }
        ok(Duration.ofSeconds(30), "base64 -d " + path + ".b64 > " + path + " && rm " + path + ".b64");
    }

    private synchronized String tail() {
        return "guest console, last lines:\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** Powers the guest off (sync first), then kills qemu by its PID if it has not ended within 30 s. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (qemu.isAlive()) {
            try {
                console.write("0 c3luYzsgZWNobyBvID4gL3Byb2Mvc3lzcnEtdHJpZ2dlcg==\n".getBytes(StandardCharsets.US_ASCII)); // sync; echo o > /proc/sysrq-trigger
                console.flush();
            } catch (IOException ignored) {
                // already gone
            }
            if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        synchronized (this) {
            log.close();
        }
    }
}
