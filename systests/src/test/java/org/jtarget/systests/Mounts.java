package org.jtarget.systests;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/**
 * Root-only set-up for fault tests: small file systems (tmpfs, ext4 on a loop device) that can be made to
 * fill up or fail. Each step that this container may refuse skips the test with the reason; the clean-up
 * steps never throw, so they belong in finally blocks.
 */
final class Mounts {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Mounts() {
    }

    /** Skips the calling test unless it runs as root (mount and losetup need it). */
    static void assumeRoot() {
        Cmd.Result id = Cmd.run("id", "-u");
        Assumptions.assumeTrue(id.ok() && id.out().strip().equals("0"),
                () -> "needs root for mount/losetup, running as uid " + id.out().strip() + ": test skipped");
    }

    /** mount(8) with {@code args}; skips the test when this container refuses it. */
    static void mount(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "mount";
        System.arraycopy(args, 0, argv, 1, args.length);
        Cmd.Result r = Cmd.run(TIMEOUT, argv);
        Assumptions.assumeTrue(r.ok(), () -> "mount refused here: test skipped\n" + r.describe());
    }

    /** Unmounts {@code dir}, lazily when it is busy; never throws. */
    static void umount(Path dir) {
        try {
            if (!Cmd.run(TIMEOUT, "umount", dir.toString()).ok()) {
                Cmd.run(TIMEOUT, "umount", "-l", dir.toString());
            }
        } catch (AssertionError e) {
            System.err.println("umount " + dir + " failed: " + e.getMessage());
        }
    }

    /** A free loop device over {@code image} ({@code losetup -f --show}); skips the test when refused. */
    static String attachLoop(Path image) {
        Cmd.assumeInstalled("losetup", "mount");
        Cmd.Result r = Cmd.run(TIMEOUT, "losetup", "-f", "--show", image.toString());
        Assumptions.assumeTrue(r.ok() && r.out().strip().startsWith("/dev/loop"),
                () -> "losetup refused here: test skipped\n" + r.describe());
        return r.out().strip();
    }

    /** Detaches a loop device this test attached; never throws. */
    static void detachLoop(String device) {
        if (device == null) {
            return;
        }
        try {
            Cmd.run(TIMEOUT, "losetup", "-d", device);
        } catch (AssertionError e) {
            System.err.println("losetup -d " + device + " failed: " + e.getMessage());
        }
    }

    /** Runs a set-up command that must work here (e.g. mkfs); fails the test with its output otherwise. */
    static String run(String... argv) {
        Cmd.Result r = Cmd.run(TIMEOUT, argv);
        if (!r.ok()) {
            throw new AssertionError("set-up failed: " + r.describe());
        }
        return r.out();
    }
}
