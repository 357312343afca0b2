package org.jtarget.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Keeps the logs of earlier runs: slf4j-simple truncates its log file when it opens it, so before
 * the framework starts {@code jtarget.log} becomes {@code jtarget.log.1}, {@code .1} becomes
 * {@code .2}, and so on; the oldest generation beyond {@code keep} is deleted.
 */
final class LogRotation {

    private LogRotation() {
    }

    static void rotate(Path log, int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep: " + keep + " (expected: >= 1)");
        }
        if (!Files.exists(log) || Files.size(log) == 0) {
            return;
        }
        Files.deleteIfExists(generation(log, keep));
        for (int i = keep - 1; i >= 1; i--) {
            Path older = generation(log, i);
            if (Files.exists(older)) {
                Files.move(older, generation(log, i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(log, generation(log, 1), StandardCopyOption.REPLACE_EXISTING);
    }

    static Path generation(Path log, int n) {
        return log.resolveSibling(log.getFileName() + "." + n);
    }
}
