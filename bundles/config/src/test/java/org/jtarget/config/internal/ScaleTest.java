package org.jtarget.config.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TpgInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STYLE.md section 5: save and load 10,000 targets with a LUN each as one document. Prints timings only. */
class ScaleTest {
    @TempDir
    Path home;

    @Test
    void tenThousandTargetsSaveAndLoad() throws Exception {
        int n = 10_000;
        List<BackstoreInfo> backstores = new ArrayList<>(n);
        List<TargetInfo> targets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            backstores.add(new BackstoreInfo("d" + i, "file", Map.of("file", "d" + i + ".img", "size", "1G"),
                    BackstoreInfo.State.OFFLINE, "", 0, 0, String.format("%016x", i)));
            targets.add(new TargetInfo("iqn.2026-11.org.jtarget:t" + i, "iscsi", List.of(new TpgInfo(1,
                    Map.of("generate_node_acls", "true", "authentication", "none"), List.of("127.0.0.1:3260"),
                    List.of(new LunInfo(0, "d" + i, false)), List.of()))));
        }
        Configuration tree = new Configuration(backstores, targets);
        Path file = home.resolve("conf/jtarget.json");
        ConfigFile.write(file, tree); // warm-up
        long t0 = System.nanoTime();
        ConfigFile.write(file, tree);
        long t1 = System.nanoTime();
        ConfigFile.Loaded loaded = ConfigFile.read(file);
        long t2 = System.nanoTime();
        assertEquals(tree, loaded.configuration());
        System.out.printf("config scale: %d targets, %d KiB: save (atomic, fsync) %d ms, load %d ms%n", n,
                Files.size(file) / 1024, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }
}
