package org.jtarget.backstore.s3.internal;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peer of {@code bench/s3.sh}: the backstore's own S3 client ({@link S3Client}, {@link SigV4}, an
 * {@link HttpClient} built as {@code S3BackstoreProvider} builds it) PUTs {@code count} objects of
 * {@code size} bytes (random, not zeros) with {@code threads} requests in flight, as the backstore's upload
 * pool does, and prints the throughput. Not a test: run with {@code java -cp target/test-classes:target/classes}.
 * <pre>S3PutBench ENDPOINT BUCKET ACCESS_KEY SECRET_KEY COUNT THREADS SIZE [PREFIX [WARM]]</pre>
 * The secret key is read from the environment variable S3_SECRET_KEY when given as "-". WARM untimed PUTs
 * (default THREADS) go first, so that the JIT compiler has finished with the client before the timed ones.
 * Also prints the CPU seconds of the timed PUTs: this process's, and the server's when the environment variable
 * S3_BENCH_SERVER_PIDS names its processes (their user and system time in /proc).
 */
public final class S3PutBench {
    private S3PutBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: S3PutBench ENDPOINT BUCKET ACCESS_KEY SECRET_KEY|- COUNT THREADS SIZE [PREFIX [WARM]]");
            System.exit(2);
        }
        String secret = "-".equals(args[3]) ? System.getenv("S3_SECRET_KEY") : args[3];
        int count = Integer.parseInt(args[4]);
        int threads = Integer.parseInt(args[5]);
        int size = Integer.parseInt(args[6]);
        String prefix = args.length > 7 ? args[7] : "putbench/";
        int warm = args.length > 8 ? Integer.parseInt(args[8]) : threads;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        S3Client client = new S3Client(http, URI.create(args[0]), args[1], true,
                new SigV4(args[2], secret, "us-east-1"), 1, 0);
        byte[][] data = new byte[threads][size];
        Random random = new Random(1);
        for (byte[] d : data) {
            random.nextBytes(d);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicLong next = new AtomicLong();
        // untimed PUTs first: connections opened, classes loaded and compiled (the backstore's are warm too)
        run(pool, client, data, threads, new AtomicLong(), Math.max(warm, threads), prefix + "warm-");
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        String[] serverPids = System.getenv().getOrDefault("S3_BENCH_SERVER_PIDS", "").trim().split("\\s+");
        long c0 = os.getProcessCpuTime();
        long s0 = ticks(serverPids);
        long t0 = System.nanoTime();
        run(pool, client, data, threads, next, count, prefix);
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - c0) / 1e9;
        double server = (ticks(serverPids) - s0) / 100.0;
        pool.shutdown();
        System.out.printf("%d PUTs of %d bytes, %d in parallel, in %.3f s: %.1f MiB/s%n", count, size, threads,
                secs, (double) count * size / secs / (1 << 20));
        System.out.printf("cpu seconds client %.2f server %.2f%n", cpu, server);
    }

    /** User and system CPU time of these processes, in 1/100 s (Linux's clock ticks); 0 for none or no /proc. */
    private static long ticks(String[] pids) throws IOException {
        long sum = 0;
        for (String pid : pids) {
            Path stat = Path.of("/proc", pid, "stat");
            if (pid.isEmpty() || !Files.exists(stat)) {
                continue;
            }
            String line = Files.readString(stat);
            String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
            sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);  // fields 14 and 15: utime, stime
        }
        return sum;
    }

    private static void run(ExecutorService pool, S3Client client, byte[][] data, int threads, AtomicLong next,
                            int count, String prefix) throws Exception {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            byte[] d = data[t];
            done.add(pool.submit(() -> {
                for (long i; (i = next.getAndIncrement()) < count; ) {
                    client.put(prefix + String.format("%016x", i), d, false);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }
}
