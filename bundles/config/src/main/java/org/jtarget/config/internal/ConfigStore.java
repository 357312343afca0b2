package org.jtarget.config.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jtarget.api.Configuration;
import org.jtarget.api.TargetService;
import org.jtarget.api.TargetServiceListener;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code <home>/conf/jtarget.json} and the object tree in step: restores the file at start
 * (or creates the first-start tree), saves after every change (debounced, atomically) and once more,
 * synchronously, when stopped. A file that cannot be read is moved aside, never overwritten.
 */
@Component(service = TargetServiceListener.class, immediate = true)
public final class ConfigStore implements TargetServiceListener {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigStore.class);
    static final String FILE = "jtarget.json";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** Changes closer together than this are saved once. */
    static final long DEBOUNCE_MILLIS = 200;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    /**
     * Held as service objects, not the service: the registry binds this component as a listener while
     * it is created, so taking the service during our own creation would be a cycle (SCR logs it as an
     * error). The service is taken on the store's thread once activation returned.
     */
    @Reference
    private ComponentServiceObjects<TargetService> serviceObjects;
    private volatile TargetService service;
    private Path file;
    private String portal;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final Object saveLock = new Object();
    private volatile boolean active;
    /** Why saving is refused: the file could not be read and no copy of it could be made. */
    private volatile String saveRefused;
    private ScheduledExecutorService saver;

    public ConfigStore() {
    }

    /** For tests: explicit service, home and {@code jtarget.portal}. */
    ConfigStore(TargetService service, Path home, String portal) {
        this.service = service;
        this.file = home.resolve("conf").resolve(FILE);
        this.portal = portal;
    }

    /** Starts the store: restoring runs on the store's thread, see {@link #serviceObjects}. */
    @Activate
    void activate() {
        if (file == null) {
            String home = System.getProperty("jtarget.home");
            Path h = Path.of(home == null || home.isBlank() ? System.getProperty("user.dir") : home).toAbsolutePath();
            file = h.resolve("conf").resolve(FILE);
            portal = System.getProperty("jtarget.portal");
        }
        saver = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jtarget-config-save");
            t.setDaemon(true);
            return t;
        });
        saver.execute(this::start);
    }

    /** Restores the saved (or first-start) tree and saves it back, with serials and skipped parts settled. */
    private void start() {
        try {
            if (service == null) {
                service = serviceObjects.getService();
            }
            Configuration loaded = load();
            active = true;
            if (loaded != null) {
                List<String> problems = service.restore(loaded);
                problems.forEach(p -> LOG.warn("Configuration {}: {}", file, p));
                if (!problems.isEmpty() && Files.exists(file)) {
                    keepCopy("before-restore");
                }
            }
            save();
        } catch (RuntimeException e) {
            LOG.error("Configuration {} could not be restored", file, e);
        }
    }

    @Deactivate
    void deactivate() {
        active = false;
        saver.shutdown(); // lets a start or save in progress finish
        try {
            if (!saver.awaitTermination(30, TimeUnit.SECONDS)) {
                saver.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (service != null) {
            save();
            if (serviceObjects != null) {
                serviceObjects.ungetService(service);
            }
            service = null;
        }
    }

    /** For tests: waits until what the store's thread was given has run. */
    void awaitIdle() throws Exception {
        saver.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void configurationChanged() {
        if (active && pending.compareAndSet(false, true)) {
            try {
                saver.schedule(() -> {
                    pending.set(false);
                    save();
                }, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                pending.set(false); // stopping: deactivate saves
            }
        }
    }

    Path file() {
        return file;
    }

    /** The tree to restore: the saved file, the first-start tree, or null when the file was unreadable. */
    private Configuration load() {
        if (!Files.exists(file)) {
            LOG.info("No {}: creating the first-start configuration", file);
            return Defaults.firstStart(portal);
        }
        ownerOnly(file);
        try {
            ConfigFile.Loaded loaded = ConfigFile.read(file);
            loaded.problems().forEach(p -> LOG.warn("Configuration {}: {}", file, p));
            if (!loaded.problems().isEmpty()) {
                keepCopy("before-restore");
            }
            if (portal != null && !portal.isBlank()) {
                LOG.info("jtarget.portal={}: the default target's TPG {} listens there", portal, Defaults.TAG);
            }
            return Defaults.withPortal(loaded.configuration(), portal);
        } catch (IOException | ConfigFile.UnreadableException e) {
            Path aside = keepCopy("broken");
            if (aside == null) {
                // no copy: saving would replace the only one there is
                saveRefused = "could not read " + file + " nor copy it aside (" + e.getMessage() + ")";
                LOG.error("CONFIGURATION NOT LOADED and changes will NOT be saved: {}. Fix the file (or its"
                        + " permissions) and restart jtarget.", saveRefused);
                return null;
            }
            try {
                Files.delete(file);
            } catch (IOException d) {
                LOG.error("Cannot remove {} after copying it to {}: {}", file, aside, d.toString());
            }
            LOG.error("CONFIGURATION NOT LOADED: {} cannot be read ({}). It was moved to {}; jtarget starts with"
                    + " an empty configuration. Stop jtarget, fix that file and move it back to {} to restore it.",
                    file, e.getMessage(), aside, file.getFileName());
            return null;
        }
    }

    /**
     * The file holds CHAP secrets: a copy made by hand (cp, an editor, a backup restore) may be readable by
     * others; make it owner-only (0600) as every file jtarget writes is, and say so. Copies of it inherit that.
     */
    static void ownerOnly(Path file) {
        if (!Files.isRegularFile(file)) {
            return; // read as it is: the error says what it is
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (!mode.equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(file, OWNER_ONLY);
                LOG.warn("{} was mode {}; it holds CHAP secrets, so it is now {} (owner only)", file,
                        PosixFilePermissions.toString(mode), PosixFilePermissions.toString(OWNER_ONLY));
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to tighten
        } catch (IOException e) {
            LOG.warn("Cannot make {} owner-only (it holds CHAP secrets): {}", file, e.toString());
        }
    }

    /** Copies the file to {@code jtarget.json.<why>-<UTC time>}; returns the copy, or null if that failed. */
    private Path keepCopy(String why) {
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(STAMP);
        Path copy = file.resolveSibling(FILE + "." + why + "-" + stamp);
        for (int n = 1; Files.exists(copy); n++) {
            copy = file.resolveSibling(FILE + "." + why + "-" + stamp + "-" + n);
        }
        try {
            Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES);
            AtomicFile.syncDirectory(file.getParent());
            LOG.warn("Kept a copy of {} as {}", file, copy);
            return copy;
        } catch (IOException e) {
            LOG.error("Cannot copy {} to {}: {}", file, copy, e.toString());
            return null;
        }
    }

    /** Writes the current tree; on failure the previous file stays intact and the error is logged. */
    void save() {
        synchronized (saveLock) {
            if (saveRefused != null) {
                LOG.error("Configuration not saved: {}", saveRefused);
                return;
            }
            try {
                long t0 = System.nanoTime();
                Configuration c = service.configuration();
                ConfigFile.write(file, c);
                LOG.debug("Saved {} ({} targets) in {} ms", file, c.targets().size(), (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException | RuntimeException e) {
                LOG.error("Cannot save the configuration to {}: {} (the previous file is intact)", file, e.toString());
            }
        }
    }
}
