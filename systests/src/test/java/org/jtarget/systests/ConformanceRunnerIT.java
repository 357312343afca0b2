package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance gate of test.sh ({@code conformance/conformance.sh}) on two libiscsi tests: a LUN configured
 * through {@code bin/jtarget exec} gets the property its test needs (read_only: WP, DATA PROTECT), the merged
 * table counts a test skipped on LUN 0 and passed on its own LUN once, and a configuration step that fails is
 * a failure of its run, never a skip.
 */
class ConformanceRunnerIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(300);
    private static final Path SCRIPT = Path.of("conformance/conformance.sh").toAbsolutePath();

    private Path launcher;
    private Path work;

    @BeforeEach
    void setUp() throws IOException {
        Cmd.assumeInstalled("iscsi-test-cu", "libiscsi-bin");
        Path dist = Path.of(System.getProperty("jtarget.distribution", "../distribution/target/jtarget"));
        launcher = dist.resolve("bin/jtarget").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(launcher), "no distribution to test: " + launcher + " is missing");
        Path base = Files.createDirectories(Path.of(System.getProperty("systests.work", "target/systests-work")));
        work = Files.createTempDirectory(base.toAbsolutePath(), "conformance-");
    }

    @Test
    void aReadOnlyLunPassesTheTestThatSkipsOnLunZeroAndTheGateCountsItOnce() throws IOException {
        Path runs = runs("main\t0\t-\t-\tTestUnitReady,ReadOnly",
                "ro\t1\tmemory size=16M\tread_only=true\tReadOnly");
        Cmd.Result r = conformance(runs, "2");

        assertEquals(0, r.exit(), r::describe);
        List<String> results = Files.readAllLines(work.resolve("out/results.tsv"));
        assertTrue(results.contains("SCSI.TestUnitReady.Simple\tmain\tPASSED\t"), results::toString);
        assertTrue(results.stream().anyMatch(l -> l.startsWith("SCSI.ReadOnly.ReadOnlySBC\tmain\tSKIPPED\t")
                && l.contains("not write-protected")), results::toString);
        assertTrue(results.contains("SCSI.ReadOnly.ReadOnlySBC\tro\tPASSED\t"), results::toString);
        // group, total, one cell per run (passed/failed/skipped), then the best of the runs
        List<String> families = Files.readAllLines(work.resolve("out/families.tsv"));
        assertEquals("group\ttotal\tmain\tro\tpassed\tfailed\tskipped", families.get(0));
        assertTrue(families.contains("SCSI.ReadOnly\t1\t0/0/1\t1/0/0\t1\t0\t0"), families::toString);
        assertTrue(families.contains("SCSI\t2\t1/0/1\t1/0/0\t2\t0\t0"), families::toString);
        String summary = Files.readString(work.resolve("out/summary.txt"));
        assertTrue(summary.startsWith("conformance: 2 passed, 0 failed, 0 skipped of 2 "), summary);
        assertTrue(summary.contains("gate met"), summary);
    }

    @Test
    void aFailingConfigurationStepFailsItsRunAndTheGate() throws IOException {
        Path runs = runs("main\t0\t-\t-\tTestUnitReady",
                "bad\t1\tmemory size=16M\tno_such_attribute=1\tTestUnitReady");
        Cmd.Result r = conformance(runs, "1");

        assertEquals(1, r.exit(), r::describe);
        assertTrue(r.out().contains("run bad (LUN 1: memory size=16M, no_such_attribute=1): CONFIGURATION FAILED"),
                r::describe);
        List<String> failed = Files.readAllLines(work.resolve("out/failed.txt"));
        assertEquals(1, failed.size(), failed::toString);
        assertTrue(failed.get(0).startsWith("SCSI.TestUnitReady.Simple [bad] (NOTRUN): configuration failed: "
                + "'backstore:set conf-bad no_such_attribute 1' exited 1"), failed::toString);
        String summary = Files.readString(work.resolve("out/summary.txt"));
        // passed in main, not run in bad: a failure, so not counted as passed either
        assertTrue(summary.startsWith("conformance: 0 passed, 1 failed, 0 skipped of 1 "), summary);
        assertTrue(summary.contains("configuration failed for run(s) bad"), summary);
        assertTrue(summary.contains("GATE MISSED: 1 failed, 0 < 1 passed"), summary);
    }

    private Path runs(String... lines) throws IOException {
        return Files.writeString(work.resolve("runs.tsv"), "# test runs\n" + String.join("\n", lines) + "\n");
    }

    /** conformance.sh with the given run table; the distribution under test for the target and for exec. */
    private Cmd.Result conformance(Path runs, String minPassed) {
        return Cmd.run(RUN_TIMEOUT, "env", "JTARGET=" + launcher, "RUNS_FILE=" + runs, "OUT=" + work.resolve("out"),
                "MIN_PASSED=" + minPassed, "MPATH=0", SCRIPT.toString());
    }
}
