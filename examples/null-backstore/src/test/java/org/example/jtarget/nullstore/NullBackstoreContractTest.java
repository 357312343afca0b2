package org.example.jtarget.nullstore;

import java.nio.file.Path;
import java.util.Map;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;

/** The SPI contract (jtarget's test kit) against a null object; it keeps no data, so reads must be zeros. */
class NullBackstoreContractTest extends BackstoreContract {
    @Override
    protected Backstore open() throws Exception {
        return new NullBackstoreProvider().open(new BackstoreContext("contract", Map.of("size", "16M"), Path.of("unused")))
                .toCompletableFuture().get();
    }

    @Override
    protected boolean keepsData() {
        return false;
    }
}
