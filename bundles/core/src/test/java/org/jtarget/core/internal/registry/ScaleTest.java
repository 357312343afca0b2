package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtarget.api.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The STYLE.md section 5 headline: 10,000 targets, each with a LUN on its own backstore, created through
 * the admin API, listed, saved and restored. Prints timings; asserts only the results.
 */
class ScaleTest {
    static final int TARGETS = 10_000;

    @TempDir
    Path home;

    @Test
    void tenThousandTargetsWithALunEach() throws Exception {
        Doubles.Provider file = new Doubles.Provider("file");
        Doubles.Fabric iscsi = new Doubles.Fabric();
        ObjectRegistry registry = new ObjectRegistry(new Doubles.Engine(), home);
        registry.bindProvider(file, file.props());
        registry.bindFabric(iscsi, iscsi.props());
        registry.awaitOpener();

        long t0 = System.nanoTime();
        for (int i = 0; i < TARGETS; i++) {
            String name = "iqn.2026-11.org.jtarget:t" + i;
            registry.createBackstore("d" + i, "file", Map.of("file", "d" + i + ".img", "size", "1G"));
            registry.createTarget("iscsi", name);
            registry.createTpg(name, 1);
            registry.addPortal(name, 1, "127.0.0.1:3260");
            registry.addLun(name, 1, 0, "d" + i);
        }
        long t1 = System.nanoTime();
        Configuration saved = registry.configuration();
        long t2 = System.nanoTime();
        assertEquals(TARGETS, saved.targets().size());
        assertEquals(1, iscsi.started.size(), "one listener for 10,000 TPGs on one address");

        ObjectRegistry restored = new ObjectRegistry(new Doubles.Engine(), home);
        restored.bindProvider(file, file.props());
        restored.bindFabric(iscsi, iscsi.props());
        restored.awaitOpener();
        long t3 = System.nanoTime();
        assertEquals(List.of(), restored.restore(saved));
        long t4 = System.nanoTime();
        assertEquals(saved, restored.configuration());
        long lookups = System.nanoTime();
        for (int i = 0; i < TARGETS; i++) {
            restored.lookup("iscsi", "iqn.2026-11.org.jtarget:t" + i, ObjectRegistryTest.LOCAL).orElseThrow();
        }
        long t5 = System.nanoTime();
        System.out.printf("scale: %d targets: create via API %d ms, configuration() %d ms, restore %d ms, "
                        + "%d logins' lookups %d ms%n", TARGETS, ms(t1 - t0), ms(t2 - t1), ms(t4 - t3), TARGETS,
                ms(t5 - lookups));
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
