package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** qemu-io against an iSCSI LUN through qemu's own initiator (libiscsi, block driver {@code iscsi}). */
final class Qemu {
    static final String INITIATOR = "iqn.2026-11.org.jtarget:systests-qemu";
    /** What qemu-io prints for each write that completed with GOOD status. */
    private static final List<String> WRITEBACK = List.of("-t", "writeback");
    private static final Pattern WROTE = Pattern.compile("(?m)^wrote (\\d+)/\\d+ bytes at offset (\\d+)$");

    private Qemu() {
    }

    /**
     * Runs the qemu-io commands (e.g. {@code "write -P 0xa5 0 64k"}, {@code "read -P 0xa5 0 64k"}) in one
     * session on LUN {@code lun} of {@code iqn} at {@code portal}; fails the test unless every one succeeded.
     * {@code read -P} verifies every byte against the pattern.
     */
    static String io(String portal, String iqn, int lun, String... commands) {
        Cmd.Result r = run(Duration.ofSeconds(120), portal, iqn, lun, commands);
        // qemu-io exits non-zero when any command failed; it also prints the failure, which we check too
        if (!r.ok() || r.out().contains("verification failed") || r.err().contains("verification failed")) {
            fail("qemu-io failed on " + iqn + " LUN " + lun + ": " + r.describe());
        }
        return r.out();
    }

    /** Like {@link #io} but returns what happened, failed commands included (the test fails only on a timeout). */
    static Cmd.Result run(Duration timeout, String portal, String iqn, int lun, String... commands) {
        return Cmd.run(timeout, argv(List.of(), portal, iqn, lun, commands).toArray(String[]::new));
    }

    /**
     * Like {@link #run} with writes that stay in the target's cache: {@code -t writeback} (qemu-io's default,
     * writethrough, sets FUA on every write) and {@code cache.no-flush=on} (no SYNCHRONIZE CACHE, not even
     * the one qemu sends when it closes the image).
     */
    static Cmd.Result runWithoutFlush(Duration timeout, String portal, String iqn, int lun, String... commands) {
        List<String> argv = argv(WRITEBACK, portal, iqn, lun, commands);
        argv.set(argv.size() - 1, argv.get(argv.size() - 1) + ",cache.no-flush=on");
        return Cmd.run(timeout, argv.toArray(String[]::new));
    }

    /**
     * Starts qemu-io in the background with its output line-buffered ({@code stdbuf -oL}) into {@code out}, so
     * that what it printed before it was killed is there: each completed command's line.
     */
    static Process start(Path out, String portal, String iqn, int lun, String... commands) throws IOException {
        return start(out, List.of(), portal, iqn, lun, commands);
    }

    /**
     * {@link #start} with {@code -t writeback}: a plain write is WRITE with FUA=0 (qemu-io's default,
     * writethrough, sets FUA on every write), {@code write -f} sets FUA, {@code flush} sends SYNCHRONIZE CACHE.
     */
    static Process startWriteback(Path out, String portal, String iqn, int lun, String... commands) throws IOException {
        return start(out, WRITEBACK, portal, iqn, lun, commands);
    }

    private static Process start(Path out, List<String> options, String portal, String iqn, int lun, String... commands)
            throws IOException {
        List<String> argv = new ArrayList<>(List.of("stdbuf", "-oL", "-eL"));
        argv.addAll(argv(options, portal, iqn, lun, commands));
        return new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
    }

    /** Stops a background qemu-io: waits up to {@code grace} for it to end on its own, then kills it. */
    static void stop(Process p, Duration grace) throws InterruptedException {
        if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The offsets of the writes qemu-io reported complete ("wrote N/N bytes at offset X"), in order. */
    static List<Long> wroteOffsets(String output) {
        List<Long> offsets = new ArrayList<>();
        Matcher m = WROTE.matcher(output);
        while (m.find()) {
            offsets.add(Long.parseLong(m.group(2)));
        }
        return offsets;
    }

    static String read(Path out) {
        try {
            return Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new AssertionError("cannot read " + out + ": " + e, e);
        }
    }

    private static List<String> argv(List<String> options, String portal, String iqn, int lun, String... commands) {
        List<String> argv = new ArrayList<>(List.of("qemu-io"));
        argv.addAll(options);
        argv.add("--image-opts");
        for (String c : commands) {
            argv.add("-c");
            argv.add(c);
        }
        argv.add("driver=iscsi,transport=tcp,portal=" + portal + ",target=" + iqn + ",lun=" + lun
                + ",initiator-name=" + INITIATOR + ",discard=unmap"); // discard: UNMAP, else qemu drops it
        return argv;
    }
}
