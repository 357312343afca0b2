package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measurement behind the default object size (README, "S3 backstore"): against S3Proxy on 127.0.0.1, for
 * each object size, 64 MiB written sequentially in 1 MiB writes then flushed, read back sequentially from a cold
 * cache, and 200 random 4 KiB reads and 200 random 4 KiB writes + flush on a cold cache. Prints figures, asserts
 * nothing; runs only with {@code -Ds3.measure=true}:
 * {@code mvn -o -pl bundles/api,backstores/s3 install -Dtest=ObjectSizeMeasurement -Ds3.measure=true}.
 */
class ObjectSizeMeasurement {
    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        assumeTrue(Boolean.getBoolean("s3.measure"), "a measurement: run with -Ds3.measure=true");
        try (S3ProxyServer server = S3ProxyServer.start(dir)) {
            server.bucket("bkt");
            int total = 64 << 20;
            System.out.printf("%-8s %12s %12s %14s %14s%n", "object", "write MB/s", "read MB/s", "rand read ms",
                    "rand write ms");
            for (String size : new String[] {"64K", "256K", "1M", "4M", "8M"}) {
                S3BackstoreProvider provider = new S3BackstoreProvider();
                Map<String, String> p = Map.of("bucket", "bkt", "size", "64M", "endpoint", server.endpoint(),
                        "access_key", S3ProxyServer.ACCESS_KEY, "secret_key", S3ProxyServer.SECRET_KEY,
                        "object_size", size, "cache_size", "32M", "prefix", "m" + size + "/");
                BackstoreContext ctx = new BackstoreContext("m" + size, p, Files.createDirectories(dir.resolve(size)));
                Backstore b = provider.open(ctx).toCompletableFuture().get(60, TimeUnit.SECONDS);
                byte[] chunk = new byte[1 << 20];
                new SplittableRandom(1).nextBytes(chunk);
                long t0 = System.nanoTime();
                CompletableFuture<?>[] writes = new CompletableFuture<?>[total >> 20];
                for (int i = 0; i < writes.length; i++) {
                    ByteBuf src = Unpooled.wrappedBuffer(chunk);
                    writes[i] = b.write((long) i * 2048, src, false).toCompletableFuture().whenComplete((v, t) -> src.release());
                }
                CompletableFuture.allOf(writes).get(10, TimeUnit.MINUTES);
                b.flush().toCompletableFuture().get(10, TimeUnit.MINUTES);
                double writeMBs = total / 1e6 / ((System.nanoTime() - t0) / 1e9);
                b.close().toCompletableFuture().get(10, TimeUnit.MINUTES);
                b = provider.open(ctx).toCompletableFuture().get(60, TimeUnit.SECONDS); // cold cache
                t0 = System.nanoTime();
                for (int i = 0; i < writes.length; i++) {
                    b.read((long) i * 2048, 2048, ByteBufAllocator.DEFAULT).toCompletableFuture().get().release();
                }
                double readMBs = total / 1e6 / ((System.nanoTime() - t0) / 1e9);
                b.close().toCompletableFuture().get(10, TimeUnit.MINUTES);
                b = provider.open(ctx).toCompletableFuture().get(60, TimeUnit.SECONDS);
                SplittableRandom r = new SplittableRandom(2);
                t0 = System.nanoTime();
                for (int i = 0; i < 200; i++) {
                    b.read(r.nextLong(total / 4096) * 8, 8, ByteBufAllocator.DEFAULT).toCompletableFuture().get().release();
                }
                double randRead = (System.nanoTime() - t0) / 1e6 / 200;
                t0 = System.nanoTime();
                for (int i = 0; i < 200; i++) {
                    ByteBuf src = Unpooled.wrappedBuffer(chunk, 0, 4096);
                    b.write(r.nextLong(total / 4096) * 8, src, false).toCompletableFuture().get();
                    src.release();
                }
                b.flush().toCompletableFuture().get(10, TimeUnit.MINUTES);
                double randWrite = (System.nanoTime() - t0) / 1e6 / 200;
                b.close().toCompletableFuture().get(10, TimeUnit.MINUTES);
                provider.deactivate();
                System.out.printf("%-8s %12.1f %12.1f %14.2f %14.2f%n", size, writeMBs, readMBs, randRead, randWrite);
            }
        }
    }
}
