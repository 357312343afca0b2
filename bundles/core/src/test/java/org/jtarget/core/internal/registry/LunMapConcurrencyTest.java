package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-command LUN lookup reads without locking while the admin side remaps LUNs. */
class LunMapConcurrencyTest {
    @TempDir
    Path home;

    @Test
    void readersSeeEitherTheOldOrTheNewMappingNeverAnotherUnit() throws Exception {
        Doubles.Engine engine = new Doubles.Engine();
        Doubles.Provider file = new Doubles.Provider("file");
        Doubles.Fabric iscsi = new Doubles.Fabric();
        ObjectRegistry registry = new ObjectRegistry(engine, home);
        registry.bindProvider(file, file.props());
        registry.bindFabric(iscsi, iscsi.props());
        registry.awaitOpener();
        String t = ObjectRegistryTest.T;
        registry.createBackstore("a", "file", Map.of("file", "a.img", "size", "1M"));
        registry.createBackstore("b", "file", Map.of("file", "b.img", "size", "1M"));
        registry.createTarget("iscsi", t);
        registry.createTpg(t, 1);
        registry.addPortal(t, 1, "127.0.0.1:3260");
        registry.addAcl(t, 1, ObjectRegistryTest.I1);
        registry.addLun(t, 1, 0, "a");
        registry.openSession(registry.lookup("iscsi", t, ObjectRegistryTest.LOCAL).orElseThrow(),
                new Doubles.Session(ObjectRegistryTest.I1));
        LunMap luns = engine.nexuses.get(0).luns;
        LogicalUnit a = engine.unit("a");
        LogicalUnit b = engine.unit("b");

        AtomicReference<String> wrong = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted() && wrong.get() == null) {
                LogicalUnit at0 = luns.get(0);
                LogicalUnit at5 = luns.get(5);
                if (at0 != a) {
                    wrong.set("LUN 0 is " + at0);
                } else if (at5 != null && at5 != b) {
                    wrong.set("LUN 5 is " + at5);
                }
            }
        });
        reader.start();
        for (int i = 0; i < 5_000; i++) {
            registry.addLun(t, 1, 5, "b");
            registry.removeLun(t, 1, 5);
        }
        reader.interrupt();
        reader.join(10_000);
        assertNull(wrong.get());
        assertEquals(10_000, engine.nexuses.get(0).lunsChanged);
    }
}
