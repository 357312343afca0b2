package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** qemu-io against an iSCSI LUN through qemu's own initiator (libiscsi, block driver {@code iscsi}). */
final class Qemu {
    static final String INITIATOR = "iqn.2026-11.org.jtarget:systests-qemu";

    private Qemu() {
    }

    /**
     * Runs the qemu-io commands (e.g. {@code "write -P 0xa5 0 64k"}, {@code "read -P 0xa5 0 64k"}) in one
     * session on LUN {@code lun} of {@code iqn} at {@code portal}; fails the test unless every one succeeded.
     * {@code read -P} verifies every byte against the pattern.
     */
    static String io(String portal, String iqn, int lun, String... commands) {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "--image-opts"));
        for (String c : commands) {
            argv.add("-c");
            argv.add(c);
        }
        argv.add("driver=iscsi,transport=tcp,portal=" + portal + ",target=" + iqn + ",lun=" + lun
                + ",initiator-name=" + INITIATOR);
        Cmd.Result r = Cmd.run(Duration.ofSeconds(120), argv.toArray(String[]::new));
        // qemu-io exits non-zero when any command failed; it also prints the failure, which we check too
        if (!r.ok() || r.out().contains("verification failed") || r.err().contains("verification failed")) {
            fail("qemu-io failed on " + iqn + " LUN " + lun + ": " + r.describe());
        }
        return r.out();
    }
}
