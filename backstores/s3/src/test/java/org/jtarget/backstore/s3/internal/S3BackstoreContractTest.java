package org.jtarget.backstore.s3.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.backstore.testkit.BackstoreContract;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The backstore SPI contract, against an s3 backstore on S3Proxy (a new prefix, so never written, per test). */
class S3BackstoreContractTest extends BackstoreContract {
    private static final AtomicInteger LUNS = new AtomicInteger();
    @TempDir
    static Path dir;
    static S3ProxyServer server;
    private final S3BackstoreProvider provider = new S3BackstoreProvider();
    private BackstoreContext context;

    @BeforeAll
    static void start() throws Exception {
        server = S3ProxyServer.start(dir);
        server.bucket("contract");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected Backstore open() throws Exception {
        String name = "lun" + LUNS.incrementAndGet();
        context = new BackstoreContext(name, Map.of("bucket", "contract", "size", "16M", "endpoint", server.endpoint(),
                "access_key", S3ProxyServer.ACCESS_KEY, "secret_key", S3ProxyServer.SECRET_KEY, "cache_size", "8M"),
                Files.createDirectories(dir.resolve(name)));
        return provider.open(context).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Override
    protected void destroy() throws Exception {
        provider.destroy(context).toCompletableFuture().get(60, TimeUnit.SECONDS);
        provider.deactivate();
    }
}
