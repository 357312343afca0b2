package org.jtarget.core.internal.registry;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.TargetException;
import org.jtarget.core.internal.engine.LogicalUnit;
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
    private final Opener opener;
    /** Names of backstores being created (their open runs outside the lock); guarded by the lock. */
    private final java.util.Set<String> creating = new java.util.HashSet<>();
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
        this.opener = new Opener(lock, backstores, providers, dataDirectory);
    }

    // ---- lifecycle and the provider whiteboard ----

    /** The core is stopping: no more background opens. */
    void stopOpener() {
        opener.stop();
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
        openAll(type);
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
        BackstoreProvider provider;
        Map<String, String> effective;
        lock.lock();
        try {
            if (backstores.containsKey(name) || creating.contains(name)) {
                throw new TargetException("backstore already exists: " + name);
            }
            provider = providers.get(type);
            if (provider == null) {
                throw new TargetException(noProvider(type));
            }
            effective = Validation.validate(provider, type, params);
            creating.add(name);
        } finally {
            lock.unlock();
        }
        BackstoreInfo info;
        try {
            // outside the lock: a remote backstore connects to its server meanwhile
            CompletionStage<Backstore> opening;
            try {
                opening = provider.open(new BackstoreContext(name, effective, dataDirectory));
            } catch (RuntimeException e) {
                opening = CompletableFuture.failedFuture(e);
            }
            Backstore opened;
            try {
                opened = Opener.await(opening, Opener.TIMEOUT_SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                opening.thenAccept(b -> Opener.closeLater(name, b));
                throw new TargetException("cannot open backstore " + name + ": interrupted");
            } catch (Exception e) {
                opening.thenAccept(b -> Opener.closeLater(name, b)); // one that opens after the timeout
                throw new TargetException("cannot open backstore " + name + ": " + e.getMessage(), e);
            }
            lock.lock();
            try {
                String serial = newSerial();
                BackstoreObject obj = new BackstoreObject(name, type, params, serial,
                        engine.createLogicalUnit(name, serial));
                obj.unit.alua().onExplicitChange(registry::changed); // SET TARGET PORT GROUPS: save the states
                String prProblem = obj.unit.persistReservations(
                        BackstoreObject.reservationsFile(dataDirectory, name));
                if (prProblem != null) {
                    LOG.warn("Backstore {}: saved persistent reservations ignored: {}", name, prProblem);
                }
                obj.online(opened);
                backstores.put(name, obj);
                info = obj.info();
            } finally {
                lock.unlock();
            }
        } finally {
            lock.lock();
            try {
                creating.remove(name);
            } finally {
                lock.unlock();
            }
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
            opener.forget(obj);
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
                Opener.await(provider.destroy(new BackstoreContext(name,
                        Validation.withDefaults(provider, obj.parameters), dataDirectory)), Opener.TIMEOUT_SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TargetException("backstore " + name + " was deleted; removing its data was interrupted");
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

    /** The logical unit of a backstore object (its persistent reservations live there). */
    LogicalUnit unit(String name) {
        lock.lock();
        try {
            BackstoreObject obj = backstores.get(name);
            if (obj == null) {
                throw new TargetException("no such backstore: " + name);
            }
            return obj.unit;
        } finally {
            lock.unlock();
        }
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

    /** Opens (in the background, bounded) every object of a type whose provider just arrived. */
    private void openAll(String type) {
        lock.lock();
        try {
            for (BackstoreObject obj : backstores.values()) {
                if (obj.type.equals(type) && obj.state != BackstoreInfo.State.ONLINE) {
                    opener.request(obj);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Opens an offline object, at once when its provider completes the open at once, else in the background. */
    void open(BackstoreObject obj) {
        opener.request(obj);
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
            Opener.closeQuietly(obj.name, old);
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
        opener.awaitIdle();
    }
}
