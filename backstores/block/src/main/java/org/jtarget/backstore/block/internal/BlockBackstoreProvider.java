package org.jtarget.backstore.block.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
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
 * Backstore type {@code block}: a block device (LIO iblock), or for tests any regular file opened the same
 * way. Size, logical block size, discard and zeroing support and the write cache come from the device
 * ({@link BlockDevice}); the data stay on the device when the object is deleted.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=block")
public final class BlockBackstoreProvider implements BackstoreProvider {
    static final String DEVICE = "device";
    static final String BLOCK_SIZE = "block_size";
    static final String IO_THREADS = "io_threads";
    static final String QUEUE_DEPTH = "queue_depth";
    static final String DIRECT = "direct";
    static final String UNMAP = "unmap";
    private static final Set<String> KNOWN = Set.of(DEVICE, BLOCK_SIZE, IO_THREADS, QUEUE_DEPTH, DIRECT, UNMAP);
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(DEVICE, "path of the block device (e.g. /dev/sdb, /dev/disk/by-id/...), or of a"
                    + " regular file; refused while mounted or opened exclusively elsewhere", true, null),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096, at least the device's;"
                    + " default: the device's (512 for a file)", false, null),
            new ParameterDescriptor(IO_THREADS, "threads doing this object's I/O: 1 to 64", false, "8"),
            new ParameterDescriptor(QUEUE_DEPTH, "requests queued beyond the busy threads before the LUN answers"
                    + " TASK SET FULL: 1 to 65536", false, "256"),
            new ParameterDescriptor(DIRECT, "true: O_DIRECT where the device allows it (the host's page cache is"
                    + " bypassed); false: through the page cache (write cache on, flushed by SYNCHRONIZE CACHE and FUA)",
                    false, "true"),
            new ParameterDescriptor(UNMAP, "how UNMAP deallocates: zeroes (fallocate PUNCH_HOLE: the device's"
                    + " zeroing discard, blocks read back as zeros, LBPRZ 1), discard (BLKDISCARD: contents undefined"
                    + " afterwards, LBPRZ 0), off (no UNMAP), auto (zeroes where the device can, else discard)",
                    false, "auto"));
    private static final Logger LOG = LoggerFactory.getLogger(BlockBackstoreProvider.class);

    private final Sysfs sysfs;
    private final ExecutorService opener;
    /** Devices (links resolved) this provider serves, and by which backstore. */
    private final Map<Path, String> serving = new ConcurrentHashMap<>();

    public BlockBackstoreProvider() {
        this(Sysfs.system());
    }

    BlockBackstoreProvider(Sysfs sysfs) {
        this.sysfs = sysfs;
        AtomicInteger threads = new AtomicInteger();
        // Opening reads sysfs and issues a few ioctls: quick, but not for the caller's thread.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "jtarget-block-open-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        this.opener = pool;
    }

    @Deactivate
    void deactivate() {
        opener.shutdown();
    }

    @Override
    public String type() {
        return "block";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        CompletableFuture<Backstore> out = new CompletableFuture<>();
        try {
            opener.execute(() -> {
                try {
                    BlockBackstore backstore = openNow(context);
                    if (!out.complete(backstore)) {
                        backstore.close(); // the caller gave up waiting
                    }
                } catch (BackstoreException e) {
                    out.completeExceptionally(e);
                } catch (RuntimeException | Error e) {
                    try {
                        LOG.warn("backstore {}: open failed", context.name(), e);
                        out.completeExceptionally(new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                                "backstore " + context.name() + ": open failed: " + e, e));
                    } finally {
                        out.completeExceptionally(e); // when even that failed (a class gone): never leave it pending
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            out.completeExceptionally(new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY,
                    "block backstore provider is stopping"));
        }
        return out;
    }

    /** Opens on the calling thread (blocking). */
    BlockBackstore openNow(BackstoreContext context) throws BackstoreException {
        BackstoreParameters.checkKnown(context.parameters(), KNOWN);
        String device = context.parameters().get(DEVICE);
        if (device == null || device.isBlank()) {
            throw BackstoreParameters.invalid(DEVICE + ": missing (expected: the path of a block device)");
        }
        Path path;
        try {
            path = context.dataDirectory().resolve(device.trim()).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw BackstoreParameters.invalid(DEVICE + ": " + device + " (expected: a valid path: " + e.getReason() + ")");
        }
        int threads = intParameter(context, IO_THREADS, "8", 1, 64);
        int queueDepth = intParameter(context, QUEUE_DEPTH, "256", 1, 65536);
        Path real = realPath(path);
        String other = serving.get(real);
        if (other != null) {
            throw BackstoreParameters.invalid(DEVICE + ": " + real + " (in use: served by backstore " + other
                    + "; expected: a device nobody else uses)");
        }
        boolean direct = BackstoreParameters.bool(DIRECT, context.parameter(DIRECT, "true"));
        BlockDevice opened = BlockDevice.open(DEVICE, path, context.parameters().get(BLOCK_SIZE), direct,
                context.parameters().get(UNMAP), sysfs);
        LOG.info("backstore {}: {} opened: {}", context.name(), opened.path, opened.facts);
        BlockBackstore backstore = new BlockBackstore(context.name(), opened, threads, queueDepth);
        // The exclusive claim already keeps others out; this only names the holder in the refusal above.
        serving.put(opened.path, context.name());
        backstore.closed().whenComplete((v, t) -> serving.remove(opened.path, context.name()));
        return backstore;
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (java.io.IOException e) {
            return path; // BlockDevice.open says what is wrong with it
        }
    }

    private static int intParameter(BackstoreContext context, String key, String defaultValue, int min, int max)
            throws BackstoreException {
        String value = context.parameter(key, defaultValue);
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw BackstoreParameters.invalid(key + ": " + value + " (expected: a whole number from " + min + " to " + max + ")");
    }
}
