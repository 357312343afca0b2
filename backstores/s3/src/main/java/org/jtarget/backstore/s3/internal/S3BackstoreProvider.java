package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backstore type {@code s3}: a LUN stored as fixed-size objects in an S3 bucket (AWS S3, MinIO, Ceph RGW), with
 * a local write-back cache. Opening checks the server, the credentials and the bucket (each refused with its own
 * message), creates or checks {@code PREFIX/jtarget.json}, takes the lease {@code PREFIX/jtarget.lease} and
 * uploads what a previous run left dirty in the cache.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=s3")
public final class S3BackstoreProvider implements BackstoreProvider {
    private static final Logger LOG = LoggerFactory.getLogger(S3BackstoreProvider.class);
    /** Tries per request while serving I/O: ~6 s of backoff (0.2, 0.4, ... 3.2 s) before a CHECK CONDITION. */
    static final int ATTEMPTS = 6;
    static final long BACKOFF_MILLIS = 200;
    /** Tries per request while opening: a wrong endpoint is reported within about a second. */
    static final int OPEN_ATTEMPTS = 3;
    static final int POOL_THREADS = 8;
    static final int QUEUED_REQUESTS = 1024;
    static final int READ_AHEAD_OBJECTS = 4;
    static final long WRITE_DELAY_MILLIS = 500;
    static final Duration SLOT_WAIT = Duration.ofSeconds(90);

    private final ExecutorService background = Executors.newCachedThreadPool(threads("jtarget-s3"));
    /** The JDK client's own (daemon) threads: backstores closed after the provider left still reach S3. */
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Opens in progress finish; backstores still open close on threads of their own (their final flush runs). */
    @Deactivate
    void deactivate() {
        background.shutdown();
    }

    @Override
    public String type() {
        return "s3";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return S3Settings.PARAMETERS;
    }

    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return openNow(context);
            } catch (BackstoreException e) {
                throw new CompletionException(e);
            }
        }, background);
    }

    private Backstore openNow(BackstoreContext context) throws BackstoreException {
        S3Settings s = S3Settings.parse(context);
        S3Volume checking = new S3Volume(client(s, OPEN_ATTEMPTS), s.prefix());
        S3Volume volume = new S3Volume(client(s, ATTEMPTS), s.prefix());
        Path base = base(context, s);
        String owner = owner(base);
        try {
            S3Volume.Geometry wanted = new S3Volume.Geometry(s.size(), s.blockSize(), s.objectSize());
            S3Volume.Geometry stored = checking.geometry();
            if (stored == null) {
                checking.writeGeometry(wanted);
                LOG.info("backstore {}: created {} ({} bytes, objects of {} bytes)", s.name(), s.where(), s.size(),
                        s.objectSize());
            } else {
                checkGeometry(s, stored);
            }
            checking.acquireLease(owner, lease(owner, context));
        } catch (S3Exception e) {
            throw openFailure(s, e);
        } catch (IOException e) {
            throw new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, s.where() + ": " + e.getMessage(), e);
        } catch (S3Volume.LeaseHeld e) {
            throw new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, e.getMessage());
        }
        ExecutorService readers = pool(s.name() + "-read", QUEUED_REQUESTS);
        ExecutorService writers = pool(s.name() + "-write", QUEUED_REQUESTS);
        ExecutorService downloads = pool(s.name() + "-download", Integer.MAX_VALUE);
        ExecutorService uploads = pool(s.name() + "-upload", Integer.MAX_VALUE);
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, threads("jtarget-s3-" + s.name() + "-timer"));
        Runnable stopPools = () -> {
            readers.shutdown();
            writers.shutdown();
            downloads.shutdown();
            uploads.shutdown();
            timer.shutdown();
        };
        try {
            CacheFiles files = CacheFiles.open(base, s.objectSize(), (int) (s.cacheSize() / s.objectSize()));
            ObjectCache cache = new ObjectCache(s.name(), volume, files, downloads, uploads, timer,
                    WRITE_DELAY_MILLIS, SLOT_WAIT.toNanos());
            long blocks = s.size() / s.blockSize();
            LOG.info("backstore {}: {} opened, {} blocks of {} bytes, objects of {} bytes, cache {} ({} slots){}",
                    s.name(), s.where(), blocks, s.blockSize(), s.objectSize(), base + ".cache", files.slots(),
                    cache.dirtyObjects() > 0 ? ", " + cache.dirtyObjects() + " objects to upload from the last run" : "");
            return new S3Backstore(s.name(), s.blockSize(), blocks, cache, readers, writers, background,
                    READ_AHEAD_OBJECTS, () -> {
                        stopPools.run();
                        try {
                            volume.releaseLease(owner);
                        } catch (IOException e) {
                            LOG.warn("backstore {}: cannot release the lease {}: {}", s.name(),
                                    s.prefix() + S3Volume.LEASE, e.getMessage());
                        }
                    });
        } catch (IOException | RuntimeException e) {
            stopPools.run();
            try {
                volume.releaseLease(owner);
            } catch (IOException ignored) {
                LOG.debug("lease release after a failed open: {}", ignored.toString());
            }
            throw new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, s.name() + ": local cache "
                    + base + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the LUN's objects and jtarget.json (unless another instance holds the lease) and the local cache. */
    @Override
    public CompletionStage<Void> destroy(BackstoreContext context) {
        return CompletableFuture.runAsync(() -> {
            try {
                S3Settings s = S3Settings.parse(context);
                S3Volume volume = new S3Volume(client(s, ATTEMPTS), s.prefix());
                Path base = base(context, s);
                String holder = volume.leaseHolder(owner(base));
                if (holder != null) {
                    throw new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, s.where()
                            + ": kept, in use by another jtarget instance (" + holder + ")");
                }
                int n = volume.destroy();
                CacheFiles.delete(base);
                Files.deleteIfExists(base.resolveSibling(base.getFileName() + ".owner"));
                LOG.info("backstore {}: deleted {} objects and the metadata of {}", s.name(), n, s.where());
            } catch (BackstoreException e) {
                throw new CompletionException(e);
            } catch (IOException e) {
                throw new CompletionException(new BackstoreException(SenseReason.WRITE_ERROR, context.name()
                        + ": cannot delete its objects: " + e.getMessage(), e));
            }
        }, background);
    }

    private S3Client client(S3Settings s, int attempts) {
        return new S3Client(http, s.endpoint(), s.bucket(), s.pathStyle(),
                new SigV4(s.accessKey(), s.secretKey(), s.region()), attempts, BACKOFF_MILLIS);
    }

    /** §5: which of server, credentials and bucket is wrong, in the user's words. */
    static BackstoreException openFailure(S3Settings s, S3Exception e) {
        if (e.status() == 0) {
            return new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, S3Settings.ENDPOINT + ": "
                    + s.endpoint() + " (unreachable: " + e.getMessage() + ")", e);
        }
        if ("NoSuchBucket".equals(e.code())) {
            return BackstoreParameters.invalid(S3Settings.BUCKET + ": " + s.bucket() + " (does not exist at "
                    + s.endpoint() + ")");
        }
        if (e.credentialsRefused()) {
            return BackstoreParameters.invalid(S3Settings.ACCESS_KEY + ": " + s.accessKey() + " (the server "
                    + s.endpoint() + " refused the credentials: HTTP " + e.status() + " " + e.code()
                    + "; expected: an access key and secret key it accepts)");
        }
        return new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, s.where() + ": " + e.getMessage(), e);
    }

    private static void checkGeometry(S3Settings s, S3Volume.Geometry stored) throws BackstoreException {
        String created = " (expected: %s, the value " + s.where() + " was created with)";
        if (stored.size() != s.size()) {
            throw BackstoreParameters.invalid(S3Settings.SIZE + ": " + s.size() + String.format(created, stored.size()));
        }
        if (stored.blockSize() != s.blockSize()) {
            throw BackstoreParameters.invalid(S3Settings.BLOCK_SIZE + ": " + s.blockSize()
                    + String.format(created, stored.blockSize()));
        }
        if (stored.objectSize() != s.objectSize()) {
            throw BackstoreParameters.invalid(S3Settings.OBJECT_SIZE + ": " + s.objectSize()
                    + String.format(created, stored.objectSize()));
        }
    }

    /** data/s3/NAME-ID: the local files of this LUN, named after where it is stored. */
    private static Path base(BackstoreContext context, S3Settings s) {
        return context.dataDirectory().resolve("s3").resolve(s.name() + "-" + s.localId());
    }

    /** The lease owner id of this backstore object in this home (kept in NAME-ID.owner, created once). */
    private static String owner(Path base) throws BackstoreException {
        Path file = base.resolveSibling(base.getFileName() + ".owner");
        try {
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            Files.createDirectories(file.getParent());
            String id = UUID.randomUUID().toString();
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return id;
        } catch (IOException e) {
            throw new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, file + ": " + e, e);
        }
    }

    private static String lease(String owner, BackstoreContext context) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown";
        }
        String pid = ManagementFactory.getRuntimeMXBean().getName().replaceAll("@.*", "");
        return "{\"owner\":\"" + owner + "\",\"host\":\"" + json(host) + "\",\"pid\":" + pid + ",\"data\":\""
                + json(context.dataDirectory().toAbsolutePath().toString()) + "\",\"backstore\":\"" + json(context.name())
                + "\",\"since\":\"" + Instant.now() + "\"}";
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static ExecutorService pool(String name, int queue) {
        ThreadPoolExecutor p = new ThreadPoolExecutor(POOL_THREADS, POOL_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(queue), threads("jtarget-s3-" + name));
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
