package org.jtarget.backstore.block.internal;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;

/** The backstore SPI contract, against the block backstore on a sparse regular file (O_DIRECT, no root). */
class BlockBackstoreContractTest extends BackstoreContract {
    private static final BlockBackstoreProvider PROVIDER = new BlockBackstoreProvider();

    @TempDir
    Path dir;

    @AfterAll
    static void stopProvider() {
        PROVIDER.deactivate();
    }

    @Override
    protected Backstore open() throws Exception {
        Path image = dir.resolve("contract.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        return PROVIDER.open(new BackstoreContext("contract", Map.of("device", image.toString()), dir))
                .toCompletableFuture().get();
    }

    @Override
    protected void destroy() throws Exception {
        Files.deleteIfExists(dir.resolve("contract.img"));
    }
}
