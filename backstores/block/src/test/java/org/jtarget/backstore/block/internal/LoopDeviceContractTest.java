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
import org.junit.jupiter.api.io.TempDir;

/**
 * The backstore SPI contract, against the block backstore on a loop device over a fresh sparse file (root and
 * losetup; skipped with the reason otherwise). A block device reports every block mapped (lseek finds no holes).
 */
class LoopDeviceContractTest extends BackstoreContract {
    private static final BlockBackstoreProvider PROVIDER = new BlockBackstoreProvider();

    @TempDir
    Path dir;
    private Path device;

    @AfterAll
    static void stopProvider() {
        PROVIDER.deactivate();
    }

    @Override
    protected Backstore open() throws Exception {
        String why = LoopDevices.unavailable();
        if (why != null) {
            System.out.println("LoopDeviceContractTest skipped: " + why);
        }
        assumeTrue(why == null, why);
        Path image = dir.resolve("contract.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        device = LoopDevices.attach(image);
        return PROVIDER.open(new BackstoreContext("contract", Map.of("device", device.toString()), dir))
                .toCompletableFuture().get();
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
