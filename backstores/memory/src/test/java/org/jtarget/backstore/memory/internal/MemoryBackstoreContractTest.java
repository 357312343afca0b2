package org.jtarget.backstore.memory.internal;

import java.nio.file.Path;
import java.util.Map;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;

/** The backstore SPI contract, against a RAM backstore. */
class MemoryBackstoreContractTest extends BackstoreContract {
    @Override
    protected Backstore open() throws Exception {
        return new MemoryBackstoreProvider().open(new BackstoreContext("contract", Map.of("size", "16M"),
                Path.of("/nonexistent"))).toCompletableFuture().get();
    }
}
