package org.jtarget.backstore.block.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backstore SPI contract, against the block backstore on a loop device over a fresh sparse file (root and
 * losetup; skipped with the reason otherwise). A block device reports every block mapped (lseek finds no holes).
 */
class LoopDeviceContractTest extends BackstoreContract {
    private static BlockBackstoreProvider provider;

    @TempDir
    Path dir;
    private Path device;

    @BeforeAll
    static void startProvider() { // one per test class: a subclass runs after this class stopped its own
        provider = new BlockBackstoreProvider();
    }

    @AfterAll
    static void stopProvider() {
        provider.deactivate();
    }

    @Override
    protected Backstore open() throws Exception {
        String why = LoopDevices.unavailable();
        if (why != null) {
            System.out.println(getClass().getSimpleName() + " skipped: " + why);
        }
        assumeTrue(why == null, why);
        Path image = dir.resolve("contract.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        device = LoopDevices.attach(image);
        Map<String, String> p = new java.util.HashMap<>(parameters());
        p.put("device", device.toString());
        return provider.open(new BackstoreContext("contract", p, dir)).toCompletableFuture().get();
    }

    /** Parameters besides the device. */
    protected Map<String, String> parameters() {
        return Map.of();
    }

    @Override
    protected boolean reportsDeallocation() {
        return false;
    }

    @Override
    protected void destroy() throws Exception {
        if (device != null) {
            LoopDevices.run("losetup", "-d", device.toString());
        }
        Files.deleteIfExists(dir.resolve("contract.img"));
    }
}
