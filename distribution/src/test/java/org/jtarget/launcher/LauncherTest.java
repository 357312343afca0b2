package org.jtarget.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {

    @TempDir
    Path dist;

    @Test
    void bootBundlesStartAtLevelOneInNameOrderAsFileUris() throws Exception {
        Path boot = Files.createDirectories(dist.resolve("bundle with space/boot"));
        Files.createFile(boot.resolve("slf4j-simple-2.0.17.jar"));
        Files.createFile(boot.resolve("org.apache.aries.spifly.dynamic.framework.extension-1.3.7.jar"));
        Files.createFile(boot.resolve("slf4j-api-2.0.17.jar"));
        Files.createFile(boot.resolve("README.txt"));
        Map<String, String> config = new HashMap<>();
        config.put(Launcher.BOOT_DIR_PROP, boot.toString());

        Launcher.addBootBundles(config);

        String[] locations = config.get(Launcher.AUTO_START_1).split(" ");
        assertEquals(3, locations.length, config.get(Launcher.AUTO_START_1));
        // SPI Fly sorts first, so the extender is there before slf4j-api resolves
        assertTrue(locations[0].endsWith("/org.apache.aries.spifly.dynamic.framework.extension-1.3.7.jar"));
        assertTrue(locations[1].endsWith("/slf4j-api-2.0.17.jar"));
        assertTrue(locations[2].endsWith("/slf4j-simple-2.0.17.jar"));
        for (String location : locations) {
            assertTrue(location.startsWith("file:/") && location.contains("bundle%20with%20space"), location);
        }
    }

    @Test
    void existingLevelOneBundlesAreKept() throws Exception {
        Path boot = Files.createDirectories(dist.resolve("boot"));
        Files.createFile(boot.resolve("a.jar"));
        Map<String, String> config = new HashMap<>();
        config.put(Launcher.BOOT_DIR_PROP, boot.toString());
        config.put(Launcher.AUTO_START_1, "file:/opt/x.jar");

        Launcher.addBootBundles(config);

        assertEquals("file:/opt/x.jar " + boot.resolve("a.jar").toFile().toURI(), config.get(Launcher.AUTO_START_1));
    }

    @Test
    void aMissingBootDirectoryIsAStartupErrorNamingIt() {
        Map<String, String> config = new HashMap<>();
        config.put(Launcher.BOOT_DIR_PROP, dist.resolve("nope").toString());
        Launcher.StartupException e = assertThrows(Launcher.StartupException.class,
                () -> Launcher.addBootBundles(config));
        assertEquals("jtarget.boot.dir: " + dist.resolve("nope") + " (expected: a directory of bundles)",
                e.getMessage());
    }

    @Test
    void withoutABootDirectoryNothingChanges() throws Exception {
        Map<String, String> config = new HashMap<>();
        Launcher.addBootBundles(config);
        assertFalse(config.containsKey(Launcher.AUTO_START_1));
    }
}
