package org.jtarget.backstore.block.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Commands the tests run: losetup, mkfs, mount, stat. */
final class LoopDevices {
    private LoopDevices() {
    }

    /** The command's output; fails with its output when it exits non-zero. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException(String.join(" ", command) + ": no exit within 60 s");
            }
        } finally {
            p.destroyForcibly();
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + ": " + out.strip());
        }
        return out.strip();
    }

    /** 512-byte blocks the file system allocated to {@code file} (stat %b). */
    static long allocatedBlocks(Path file) throws IOException, InterruptedException {
        return Long.parseLong(run("stat", "-c", "%b", file.toString()));
    }

    /** Why loop devices cannot be used here, or null when they can. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "loop devices need root (running as " + System.getProperty("user.name") + ")";
        }
        try {
            run("losetup", "--version");
        } catch (IOException | InterruptedException e) {
            return "losetup is missing: " + e.getMessage();
        }
        return null;
    }

    /** Attaches {@code image} to a free loop device; extra losetup options (e.g. "-b", "4096") first. */
    static Path attach(Path image, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("losetup", "-f", "--show"));
        command.addAll(List.of(options));
        command.add(image.toString());
        return Path.of(run(command.toArray(String[]::new)));
    }
}
