package org.jtarget.backstore.file.internal;

import java.nio.file.Path;
import java.util.Map;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.io.TempDir;

/** The backstore SPI contract, against a sparse file (thin) and a preallocated one. */
class FileBackstoreContractTest extends BackstoreContract {
    @TempDir
    Path data;

    @Override
    protected Backstore open() throws Exception {
        return new FileBackstoreProvider().open(new BackstoreContext("contract",
                Map.of("file", "contract.img", "size", "16M"), data)).toCompletableFuture().get();
    }
}
