package org.jtarget.backstore.file.internal;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletableFuture;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.Completions;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backstore type {@code file}: a regular file, sparse when this provider creates it (LIO fileio).
 *
 * <p>{@link #destroy} deletes the file only when it lies inside the instance's data folder, where
 * relative {@code file=} paths (and so every file this provider creates by default) go. A file named by
 * an absolute path elsewhere is the user's own image and is kept: the provider cannot tell, after a
 * restart, whether it created it, and deleting a disk image the user brought is not recoverable.
 *
 * <p>{@code encryption=aes-256-ctr} stores every block encrypted ({@link Encryption}) with a key kept in
 * {@code <data folder>/keys/<name>.key} (mode 0600): created when the image file is created (replacing a stale
 * key of an earlier object of the same name), loaded when the image exists. An existing image without a key
 * file is refused: its data would read as garbage. {@link #destroy} deletes the key with the image, and keeps
 * it when it keeps the image.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=file")
public final class FileBackstoreProvider implements BackstoreProvider {
    static final String FILE = "file";
    static final String SIZE = "size";
    static final String BLOCK_SIZE = "block_size";
    static final String WRITE_CACHE = "write_cache";
    static final String ENCRYPTION = "encryption";
    private static final Set<String> KNOWN = Set.of(FILE, SIZE, BLOCK_SIZE, WRITE_CACHE, ENCRYPTION);
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(FILE, "path of the image file, relative to the data folder", true, null),
            new ParameterDescriptor(SIZE, "capacity with suffix K, M, G or T; required when the file does not exist"
                    + " (created sparse); grows an existing smaller file", false, null),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096", false, "512"),
            new ParameterDescriptor(WRITE_CACHE, "true: writes go to the page cache, SYNCHRONIZE CACHE and FUA"
                    + " make them durable; false: every write is durable before it completes", false, "true"),
            new ParameterDescriptor(ENCRYPTION, "none, or aes-256-ctr: blocks stored encrypted with a random key kept"
                    + " in keys/<name>.key of the data folder; offers SANITIZE CRYPTOGRAPHIC ERASE (replaces the key)."
                    + " Set when the image is created", false, Encryption.NONE));
    private static final Logger LOG = LoggerFactory.getLogger(FileBackstoreProvider.class);

    private final ExecutorService syncPool;

    public FileBackstoreProvider() {
        AtomicInteger threads = new AtomicInteger();
        // Only fsync work runs here (see FileBackstore); 4 threads let flushes of different files overlap.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "jtarget-file-sync-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        this.syncPool = pool;
    }

    @Activate
    void activate() {
        LOG.debug("file backstore provider active");
    }

    /** Queued flushes still run; backstores still open then fail new flushes with NOT READY. */
    @Deactivate
    void deactivate() {
        syncPool.shutdown();
    }

    @Override
    public String type() {
        return "file";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        return Completions.now(() -> openNow(context));
    }

    /** Opens at once: local storage needs no waiting. */
    Backstore openNow(BackstoreContext context) throws BackstoreException {
        Map<String, String> p = context.parameters();
        BackstoreParameters.checkKnown(p, KNOWN);
        Path path = path(context);
        int blockSize = BackstoreParameters.blockSize(context.parameter(BLOCK_SIZE, "512"));
        boolean writeCache = BackstoreParameters.bool(WRITE_CACHE, context.parameter(WRITE_CACHE, "true"));
        Long size = p.containsKey(SIZE) ? BackstoreParameters.size(SIZE, p.get(SIZE)) : null;
        if (size != null && size % blockSize != 0) {
            throw BackstoreParameters.invalid(SIZE + ": " + p.get(SIZE) + " (expected: a multiple of the block size " + blockSize + ")");
        }
        boolean encrypted = encryption(context.parameter(ENCRYPTION, Encryption.NONE));
        Path keyFile = Encryption.keyFile(context.dataDirectory(), context.name());
        boolean created = false;
        boolean keyCreated = false;
        try {
            long capacity;
            if (Files.exists(path)) {
                if (!Files.isRegularFile(path)) {
                    throw BackstoreParameters.invalid(FILE + ": " + path + " (expected: a regular file)");
                }
                long length = Files.size(path);
                if (size != null && size > length) {
                    setLength(path, size); // grows sparsely; never shrinks a user's file
                    LOG.info("backstore {}: grew {} from {} to {} bytes", context.name(), path, length, size);
                }
                capacity = size != null ? size : length;
            } else {
                if (size == null) {
                    throw BackstoreParameters.invalid(SIZE + ": missing (required because " + path + " does not exist yet)");
                }
                create(context, path, size);
                created = true;
                capacity = size;
            }
            long blockCount = capacity / blockSize;
            if (blockCount == 0) {
                throw BackstoreParameters.invalid(FILE + ": " + path + " (is smaller than one block; give size to grow it)");
            }
            Encryption encryption = null;
            if (encrypted) {
                if (created) {
                    encryption = Encryption.create(keyFile, blockSize); // a new image never reuses a key
                    keyCreated = true;
                } else if (Files.exists(keyFile)) {
                    encryption = Encryption.load(keyFile, blockSize);
                } else {
                    throw BackstoreParameters.invalid(ENCRYPTION + ": " + Encryption.AES_256_CTR + " (key file "
                            + keyFile + " is missing and " + path + " exists; expected: a new file, or the key file that"
                            + " encrypted it)");
                }
            } else if (!created && Files.exists(keyFile)) {
                // serving the ciphertext as data would hand initiators garbage
                throw BackstoreParameters.invalid(ENCRYPTION + ": " + Encryption.NONE + " (" + path
                        + " is encrypted with the key " + keyFile + "; expected: " + ENCRYPTION + "="
                        + Encryption.AES_256_CTR + ")");
            }
            FileBackstore backstore = openChannel(context, path, blockSize, blockCount, writeCache,
                    Math.max(Files.size(path), capacity), encryption);
            LOG.info("backstore {}: {} opened, {} blocks of {} bytes, write cache {}, unmap {}, encryption {}",
                    context.name(), path, blockCount, blockSize, writeCache ? "on" : "off",
                    backstore.thinProvisioning().isPresent() ? "by hole punching" : "not offered",
                    encrypted ? Encryption.AES_256_CTR + " (key " + keyFile + ")" : Encryption.NONE);
            return backstore;
        } catch (BackstoreException e) {
            cleanUp(created, path, keyCreated, keyFile);
            throw e;
        } catch (IOException e) {
            cleanUp(created, path, keyCreated, keyFile);
            throw openFailure(path, e);
        }
    }

    private static boolean encryption(String value) throws BackstoreException {
        return switch (value.trim()) {
            case Encryption.NONE -> false;
            case Encryption.AES_256_CTR -> true;
            default -> throw BackstoreParameters.invalid(ENCRYPTION + ": " + value + " (expected: "
                    + Encryption.NONE + " or " + Encryption.AES_256_CTR + ")");
        };
    }

    private static void cleanUp(boolean created, Path path, boolean keyCreated, Path keyFile) {
        if (created) {
            deleteQuietly(path);
        }
        if (keyCreated) {
            deleteQuietly(keyFile);
        }
    }

    @Override
    public CompletionStage<Void> destroy(BackstoreContext context) {
        return Completions.now(() -> {
            destroyNow(context);
            return null;
        });
    }

    void destroyNow(BackstoreContext context) throws BackstoreException {
        Path path = path(context);
        Path data = context.dataDirectory().toAbsolutePath().normalize();
        Path keyFile = Encryption.keyFile(context.dataDirectory(), context.name());
        if (!path.startsWith(data)) {
            LOG.info("backstore {}: kept {} (outside the data folder {}){}", context.name(), path, data,
                    Files.exists(keyFile) ? " and its key " + keyFile : "");
            return;
        }
        try {
            if (Files.deleteIfExists(path)) {
                LOG.info("backstore {}: deleted {}", context.name(), path);
            }
            if (Files.deleteIfExists(keyFile)) {
                LOG.info("backstore {}: deleted its key {}", context.name(), keyFile);
            }
        } catch (IOException e) {
            throw new BackstoreException(SenseReason.WRITE_ERROR, "file: " + path + " (cannot delete: " + e + ")", e);
        }
    }

    private static Path path(BackstoreContext context) throws BackstoreException {
        String file = context.parameters().get(FILE);
        if (file == null || file.isBlank()) {
            throw BackstoreParameters.invalid(FILE + ": missing (expected: a path, relative to the data folder "
                    + context.dataDirectory() + ")");
        }
        try {
            return context.dataDirectory().resolve(file).toAbsolutePath().normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw BackstoreParameters.invalid(FILE + ": " + file + " (expected: a valid path: " + e.getReason() + ")");
        }
    }

    /** Creates a sparse file: ftruncate via setLength allocates nothing; then makes the new name durable. */
    private static void create(BackstoreContext context, Path path, long size) throws IOException, BackstoreException {
        Path parent = path.getParent();
        if (!Files.isDirectory(parent)) {
            if (!path.startsWith(context.dataDirectory().toAbsolutePath().normalize())) {
                throw BackstoreParameters.invalid(FILE + ": " + path + " (folder " + parent + " does not exist)");
            }
            Files.createDirectories(parent);
        }
        try {
            Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
            throw BackstoreParameters.invalid(FILE + ": " + path + " (created concurrently by someone else)");
        }
        setLength(path, size);
        try (FileChannel dir = FileChannel.open(parent, StandardOpenOption.READ)) {
            dir.force(true); // the directory entry, so the file survives a crash (fsync(2) notes)
        } catch (IOException e) {
            LOG.debug("fsync of folder {} not supported: {}", parent, e.toString());
        }
    }

    private static void setLength(Path path, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
            file.getChannel().force(true);
        }
    }

    private FileBackstore openChannel(BackstoreContext context, Path path, int blockSize, long blockCount,
                                      boolean writeCache, long endOfData, Encryption encryption)
            throws IOException, BackstoreException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw BackstoreParameters.invalid(FILE + ": " + path + " (in use by another backstore or process)");
            }
            NativeFiles nativeFiles;
            try {
                nativeFiles = NativeFiles.forFile(path, (endOfData + 4095) & ~4095L);
            } catch (LinkageError e) {
                nativeFiles = null; // JNA absent (optional import unwired): no hole punching
            }
            return new FileBackstore(context.name(), path, channel, blockSize, blockCount, writeCache, syncPool,
                    nativeFiles, encryption);
        } catch (BackstoreException | IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static BackstoreException openFailure(Path path, IOException e) {
        if (e instanceof NoSuchFileException || e instanceof AccessDeniedException) {
            return BackstoreParameters.invalid(FILE + ": " + path + " (cannot open: " + e.getClass().getSimpleName() + ")");
        }
        return new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                FILE + ": " + path + " (cannot open: " + e + ")", e);
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove {} after a failed open", path, e);
        }
    }
}
