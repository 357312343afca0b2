package org.jtarget.core.internal.registry;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.TargetException;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Owns the backstore objects and the provider whiteboard: open on a provider's arrival, drain on its departure. */
final class BackstoreObjects {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectRegistry.class);
    private static final long DRAIN_TIMEOUT_SECONDS = 30;

    private final ObjectRegistry registry;
    private final ScsiEngine engine;
    private final Path dataDirectory;
    private final ReentrantLock lock;
    private final ConcurrentSkipListMap<String, BackstoreObject> backstores;
    private final ConcurrentSkipListMap<String, Target> targets;
    private final Map<String, BackstoreProvider> providers;
    private final ExecutorService opener = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jtarget-backstore-open");
        t.setDaemon(true);
        return t;
    });
    private final SecureRandom random = new SecureRandom();

    /** Shares the registry's lock and maps; {@code registry} is told of every change. */
    BackstoreObjects(ObjectRegistry registry) {
        this.registry = registry;
        this.engine = registry.engine;
        this.dataDirectory = registry.dataDirectory();
        this.lock = registry.lock;
        this.backstores = registry.backstores;
        this.targets = registry.targets;
        this.providers = registry.providers;
    }

    // ---- lifecycle and the provider whiteboard ----

    /** The core is stopping: no more background opens. */
    void stopOpener() {
        opener.shutdownNow();
    }

    /** Takes every object offline and returns the storage to close once drained. Holds the lock. */
    List<Map.Entry<BackstoreObject, Backstore>> offlineAll() {
        List<Map.Entry<BackstoreObject, Backstore>> closing = new ArrayList<>();
        for (BackstoreObject obj : backstores.values()) {
            Backstore old = obj.offline(BackstoreInfo.State.OFFLINE, "core stopped");
            if (old != null) {
                closing.add(Map.entry(obj, old));
            }
        }
        return closing;
    }

    /** Drains and closes what {@link #offlineAll} returned. Never holds the lock. */
    void closeAllDrained(List<Map.Entry<BackstoreObject, Backstore>> closing) {
        closing.forEach(e -> closeDrained(e.getKey(), e.getValue()));
    }

    void providerArrived(String type, BackstoreProvider provider) {
        lock.lock();
        try {
            if (providers.putIfAbsent(type, provider) != null) {
                LOG.warn("A second provider for backstore type {} is ignored: {}", type, provider);
                return;
            }
        } finally {
            lock.unlock();
        }
        LOG.info("Backstore type {} is present", type);
        opener.execute(() -> openAll(type, provider));
    }

    void providerLeft(String type, BackstoreProvider provider) {
        List<Map.Entry<BackstoreObject, Backstore>> closing = new ArrayList<>();
        lock.lock();
        try {
            if (!providers.remove(type, provider)) {
                return;
            }
            for (BackstoreObject obj : backstores.values()) {
                if (obj.type.equals(type)) {
                    Backstore old = obj.offline(BackstoreInfo.State.OFFLINE, "no provider for type " + type);
                    if (old != null) {
                        closing.add(Map.entry(obj, old));
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        LOG.info("Backstore type {} left; {} object(s) offline", type, closing.size());
        closing.forEach(e -> closeDrained(e.getKey(), e.getValue()));
    }

    // ---- backstores ----

    List<String> backstoreTypes() {
        return providers.keySet().stream().sorted().toList();
    }

    List<ParameterDescriptor> backstoreParameters(String type) {
        BackstoreProvider provider = providers.get(type);
        if (provider == null) {
            throw new TargetException(noProvider(type));
        }
        return List.copyOf(provider.parameters());
    }

    BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters) {
        Names.checkObjectName("backstore", name);
        Map<String, String> params = parameters == null ? Map.of() : parameters;
        BackstoreInfo info;
        lock.lock();
        try {
            if (backstores.containsKey(name)) {
                throw new TargetException("backstore already exists: " + name);
            }
            BackstoreProvider provider = providers.get(type);
            if (provider == null) {
                throw new TargetException(noProvider(type));
            }
            Map<String, String> effective = Validation.validate(provider, type, params);
            String serial = newSerial();
            BackstoreObject obj = new BackstoreObject(name, type, params, serial,
                    engine.createLogicalUnit(name, serial));
            String prProblem = obj.unit.persistReservations(BackstoreObject.reservationsFile(dataDirectory, name));
            if (prProblem != null) {
                LOG.warn("Backstore {}: saved persistent reservations ignored: {}", name, prProblem);
            }
            Backstore opened;
            try {
                opened = provider.open(new BackstoreContext(name, effective, dataDirectory));
            } catch (Exception e) {
                throw new TargetException("cannot open backstore " + name + ": " + e.getMessage(), e);
            }
            obj.online(opened);
            backstores.put(name, obj);
            info = obj.info();
        } finally {
            lock.unlock();
        }
        registry.changed();
        return info;
    }

    void deleteBackstore(String name, boolean destroyData) {
        BackstoreObject obj;
        Backstore old;
        BackstoreProvider provider;
        lock.lock();
        try {
            obj = backstores.get(name);
            if (obj == null) {
                throw new TargetException("no such backstore: " + name);
            }
            List<String> users = lunsUsing(name);
            if (!users.isEmpty()) {
                throw new TargetException("backstore " + name + " is in use by " + String.join(", ", users)
                        + " (remove those LUNs first)");
            }
            provider = providers.get(obj.type);
            if (destroyData && provider == null) {
                throw new TargetException("cannot destroy the data of backstore " + name + ": " + noProvider(obj.type));
            }
            backstores.remove(name);
            old = obj.offline(BackstoreInfo.State.OFFLINE, "deleted");
            try { // its APTPL reservations go with it
                java.nio.file.Files.deleteIfExists(BackstoreObject.reservationsFile(dataDirectory, name));
            } catch (java.io.IOException e) {
                LOG.warn("Backstore {}: cannot remove its saved reservations: {}", name, e.toString());
            }
        } finally {
            lock.unlock();
        }
        closeDrained(obj, old);
        registry.changed();
        if (destroyData) {
            try {
                provider.destroy(new BackstoreContext(name, Validation.withDefaults(provider, obj.parameters), dataDirectory));
            } catch (Exception e) {
                throw new TargetException("backstore " + name + " was deleted, but its data could not be removed: "
                        + e.getMessage(), e);
            }
        }
    }

    void setBackstoreAttribute(String name, String key, String value) {
        lock.lock();
        try {
            BackstoreObject obj = backstores.get(name);
            if (obj == null) {
                throw new TargetException("no such backstore: " + name);
            }
            String checked = Attributes.check(name, key, value);
            Map<String, String> next = new java.util.TreeMap<>(obj.attributes);
            if (checked == null) {
                next.remove(key);
            } else {
                next.put(key, checked);
            }
            obj.attributes(next);
        } finally {
            lock.unlock();
        }
        registry.changed();
    }

    List<BackstoreInfo> backstores() {
        lock.lock();
        try {
            return backstores.values().stream().map(BackstoreObject::info).toList();
        } finally {
            lock.unlock();
        }
    }

    private String noProvider(String type) {
        return "no provider for backstore type: " + type + " (present: "
                + (providers.isEmpty() ? "none" : String.join(", ", backstoreTypes())) + ")";
    }

    String newSerial() {
        return String.format("%016x", random.nextLong());
    }

    /** Opens what a provider that just arrived can serve; one object at a time so admin calls interleave. */
    private void openAll(String type, BackstoreProvider provider) {
        int online = 0;
        int failed = 0;
        for (String name : List.copyOf(backstores.keySet())) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            lock.lock();
            try {
                BackstoreObject obj = backstores.get(name);
                if (providers.get(type) != provider) {
                    return;
                }
                if (obj != null && obj.type.equals(type) && obj.state != BackstoreInfo.State.ONLINE) {
                    if (open(obj, provider)) {
                        online++;
                    } else {
                        failed++;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
        if (online + failed > 0) {
            LOG.info("Backstore type {}: {} object(s) back online, {} failed", type, online, failed);
        }
    }

    /** Opens an offline object in place; a failure leaves it FAILED with the reason. Holds the lock. */
    boolean open(BackstoreObject obj, BackstoreProvider provider) {
        try {
            Map<String, String> effective = Validation.validate(provider, obj.type, obj.parameters);
            obj.online(provider.open(new BackstoreContext(obj.name, effective, dataDirectory)));
            LOG.debug("Backstore {} is online", obj.name);
            return true;
        } catch (Exception e) {
            obj.state = BackstoreInfo.State.FAILED;
            obj.detail = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.error("Backstore {} could not be opened: {}", obj.name, obj.detail);
            return false;
        }
    }

    /** Waits until nothing uses {@code old} any more, then closes it. Never holds the lock. */
    private void closeDrained(BackstoreObject obj, Backstore old) {
        if (old == null) {
            return;
        }
        try {
            obj.unit.drained().toCompletableFuture().get(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.warn("Backstore {}: commands still running after {} s; closing anyway", obj.name, DRAIN_TIMEOUT_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Backstore {}: drain failed: {}", obj.name, e.toString());
        }
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.warn("Backstore {}: close failed: {}", obj.name, e.toString());
        }
    }

    private List<String> lunsUsing(String backstore) {
        List<String> users = new ArrayList<>();
        for (Target t : targets.values()) {
            for (Tpg tpg : t.tpgs.values()) {
                LunTable luns = tpg.luns;
                for (int i = 0; i < luns.size(); i++) {
                    if (luns.backstoreAt(i).equals(backstore)) {
                        users.add(tpg.describe() + " lun " + luns.lunAt(i));
                    }
                }
            }
        }
        return users;
    }

    /** For tests: waits until the background opener has run what was queued before this call. */
    void awaitOpener() throws Exception {
        opener.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }
}
