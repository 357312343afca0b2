package org.jtarget.iscsi.internal.fuzz;

import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * What every fuzz property class shares: the leak detector must be at paranoid and recording, a property
 * fails on a leak reported while it ran, and the log is watched for WARN records ({@link LogWatch}).
 */
abstract class FuzzProperties {
    static LogWatch log;

    @BeforeContainer
    static void watch() {
        LeakCheck.assertParanoid();
        LeakCheck.reset(); // leaks of earlier test classes are theirs
        log = LogWatch.install();
    }

    @AfterContainer
    static void unwatch() {
        log.uninstall();
    }

    @AfterProperty
    void noLeaks() {
        LeakCheck.assertNoLeaks();
    }
}
