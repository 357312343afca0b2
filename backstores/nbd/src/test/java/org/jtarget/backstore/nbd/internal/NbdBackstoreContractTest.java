package org.jtarget.backstore.nbd.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;

/** The backstore SPI contract, against a fresh nbdkit memory export (16 MiB) for each test. */
class NbdBackstoreContractTest extends BackstoreContract {
    private Path dir;
    private ServerProcess nbdkit;
    private Transport transport;

    @Override
    protected Backstore open() throws Exception {
        dir = Files.createTempDirectory("nbd-contract");
        nbdkit = ServerProcess.nbdkit(dir, "memory", "16M");
        transport = new Transport(2, 3000);
        return new NbdBackstoreProvider(transport, 10_000).open(new BackstoreContext("contract",
                Map.of("uri", nbdkit.uri("")), dir)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Override
    protected void destroy() throws Exception {
        if (transport != null) {
            transport.close();
        }
        if (nbdkit != null) {
            nbdkit.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
