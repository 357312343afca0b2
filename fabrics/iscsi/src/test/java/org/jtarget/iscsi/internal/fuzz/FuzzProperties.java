package org.jtarget.iscsi.internal.fuzz;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What every fuzz property class shares: the leak detector must be at paranoid and recording, a property
 * fails on a leak reported while it ran, and the log is watched for WARN records ({@link LogWatch}).
 */
abstract class FuzzProperties {
    static LogWatch log;

    @BeforeAll
    static void watch() {
        LeakCheck.assertParanoid();
        LeakCheck.reset(); // leaks of earlier test classes are theirs
        log = LogWatch.install();
    }

    @AfterAll
    static void unwatch() {
        log.uninstall();
    }

    /** Netty reports a leak only once the buffer is garbage: checked after all tries of a property. */
    @AfterEach
    void noLeaks() {
        try {
            LeakCheck.assertNoLeaks();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n(in one of the tries of run seed " + Fuzz.SEED
                    + ": -Djtarget.fuzz.seed=" + Fuzz.SEED + ")", e);
        }
    }
}
