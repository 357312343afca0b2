package org.jtarget.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogRotationTest {

    @TempDir
    Path logs;

    @Test
    void keepsTheLastRunsAndDropsTheOldest() throws Exception {
        Path log = logs.resolve("jtarget.log");
        for (int run = 1; run <= 4; run++) {
            Files.writeString(log, "run " + run + "\n");
            LogRotation.rotate(log, 3);
        }
        assertFalse(Files.exists(log), "the new run starts with a fresh file");
        assertEquals("run 4\n", Files.readString(logs.resolve("jtarget.log.1")));
        assertEquals("run 3\n", Files.readString(logs.resolve("jtarget.log.2")));
        assertEquals("run 2\n", Files.readString(logs.resolve("jtarget.log.3")));
        assertFalse(Files.exists(logs.resolve("jtarget.log.4")), "only 3 generations are kept");
    }

    @Test
    void anEmptyOrMissingLogIsNotRotated() throws Exception {
        Path log = logs.resolve("jtarget.log");
        LogRotation.rotate(log, 5);
        Files.writeString(logs.resolve("jtarget.log.1"), "previous\n");
        Files.createFile(log);
        LogRotation.rotate(log, 5);
        assertEquals("previous\n", Files.readString(logs.resolve("jtarget.log.1")),
                "an empty log must not push real logs out");
    }

    @Test
    void rejectsAZeroGenerationCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogRotation.rotate(logs.resolve("jtarget.log"), 0));
        assertEquals("keep: 0 (expected: >= 1)", e.getMessage());
    }
}
