package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TargetServiceListener;
import org.jtarget.api.TpgInfo;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The object tree (LIO's configfs hierarchy): backstore objects, targets, TPGs, portals, LUNs and ACLs.
 *
 * <p>Concurrency: every mutation holds {@link #lock}; the maps are concurrent and the TPG fields
 * immutable values, so logins ({@link TargetCore}) and the per-command LUN lookup never lock. Calls
 * that may block or re-enter (closing sessions, LUN change notices, listeners) run after the lock is
 * released. Providers that arrive are opened on a background thread; providers that leave are
 * detached and drained on the unbinding thread, before their bundle goes.
 */
@Component(service = {TargetService.class, TargetCore.class}, immediate = true)
public final class ObjectRegistry implements TargetService, TargetCore {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectRegistry.class);
    private static final long DRAIN_TIMEOUT_SECONDS = 30;

    final ScsiEngine engine;
    private final Path dataDirectory;
    private final ReentrantLock lock = new ReentrantLock();
    final ConcurrentSkipListMap<String, BackstoreObject> backstores = new ConcurrentSkipListMap<>();
    final ConcurrentSkipListMap<String, Target> targets = new ConcurrentSkipListMap<>();
    final Map<String, BackstoreProvider> providers = new ConcurrentHashMap<>();
    final Map<String, FabricModule> fabrics = new ConcurrentHashMap<>();
    final PortalListeners listeners = new PortalListeners();
    private final List<TargetServiceListener> changeListeners = new CopyOnWriteArrayList<>();
    private final ExecutorService opener = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jtarget-backstore-open");
        t.setDaemon(true);
        return t;
    });
    private final SecureRandom random = new SecureRandom();

    @Activate
    public ObjectRegistry(@Reference(name = "engine") ScsiEngine engine) {
        this(engine, home());
    }

    /** For tests: an explicit instance home. */
    ObjectRegistry(ScsiEngine engine, Path home) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.dataDirectory = home.resolve("data");
        try {
            java.nio.file.Files.createDirectories(dataDirectory);
        } catch (java.io.IOException e) {
            LOG.warn("Cannot create the data folder {}: {}", dataDirectory, e.toString());
        }
    }

    /** {@code jtarget.home}, else the working directory. */
    static Path home() {
        String home = System.getProperty("jtarget.home");
        return Path.of(home == null || home.isBlank() ? System.getProperty("user.dir") : home).toAbsolutePath();
    }

    Path dataDirectory() {
        return dataDirectory;
    }

    @Deactivate
    void deactivate() {
        opener.shutdownNow();
        List<Map.Entry<BackstoreObject, Backstore>> closing = new ArrayList<>();
        lock.lock();
        try {
            listeners.stopAll(fabrics);
            for (BackstoreObject obj : backstores.values()) {
                Backstore old = obj.offline(BackstoreInfo.State.OFFLINE, "core stopped");
                if (old != null) {
                    closing.add(Map.entry(obj, old));
                }
            }
        } finally {
            lock.unlock();
        }
        closing.forEach(e -> closeDrained(e.getKey(), e.getValue()));
    }

    // ---- whiteboard: backstore providers, fabrics, listeners ----

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindProvider(BackstoreProvider provider, Map<String, Object> properties) {
        String type = name(properties.get(BackstoreProvider.TYPE_PROPERTY), provider::type);
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

    void unbindProvider(BackstoreProvider provider, Map<String, Object> properties) {
        String type = name(properties.get(BackstoreProvider.TYPE_PROPERTY), provider::type);
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

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindFabric(FabricModule fabric, Map<String, Object> properties) {
        String name = name(properties.get(FabricModule.NAME_PROPERTY), fabric::name);
        List<String> failures;
        lock.lock();
        try {
            if (fabrics.putIfAbsent(name, fabric) != null) {
                LOG.warn("A second fabric named {} is ignored: {}", name, fabric);
                return;
            }
            failures = listeners.fabricArrived(name, fabric);
        } finally {
            lock.unlock();
        }
        LOG.info("Fabric {} is present", name);
        failures.forEach(f -> LOG.error("Fabric {}: {}", name, f));
    }

    void unbindFabric(FabricModule fabric, Map<String, Object> properties) {
        String name = name(properties.get(FabricModule.NAME_PROPERTY), fabric::name);
        lock.lock();
        try {
            if (fabrics.remove(name, fabric)) {
                listeners.fabricLeft(name);
                LOG.info("Fabric {} left", name);
            }
        } finally {
            lock.unlock();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindListener(TargetServiceListener listener) {
        changeListeners.add(listener);
    }

    void unbindListener(TargetServiceListener listener) {
        changeListeners.remove(listener);
    }

    private static String name(Object property, java.util.function.Supplier<String> fallback) {
        return property instanceof String s && !s.isBlank() ? s : fallback.get();
    }

    // ---- backstores ----

    @Override
    public List<String> backstoreTypes() {
        return providers.keySet().stream().sorted().toList();
    }

    @Override
    public List<ParameterDescriptor> backstoreParameters(String type) {
        BackstoreProvider provider = providers.get(type);
        if (provider == null) {
            throw new TargetException(noProvider(type));
        }
        return List.copyOf(provider.parameters());
    }

    @Override
    public BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters) {
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
        changed();
        return info;
    }

    @Override
    public void deleteBackstore(String name, boolean destroyData) {
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
        changed();
        if (destroyData) {
            try {
                provider.destroy(new BackstoreContext(name, Validation.withDefaults(provider, obj.parameters), dataDirectory));
            } catch (Exception e) {
                throw new TargetException("backstore " + name + " was deleted, but its data could not be removed: "
                        + e.getMessage(), e);
            }
        }
    }

    @Override
    public void setBackstoreAttribute(String name, String key, String value) {
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
        changed();
    }

    @Override
    public List<BackstoreInfo> backstores() {
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

    // ---- targets and TPGs ----

    @Override
    public TargetInfo createTarget(String fabric, String name) {
        Names.checkFabricName(fabric);
        TargetInfo info;
        lock.lock();
        try {
            if (name != null && targets.containsKey(name)) {
                throw new TargetException("target already exists: " + name);
            }
            checkScsiName(fabric, "target", name);
            Target t = new Target(name, fabric);
            targets.put(name, t);
            info = info(t);
        } finally {
            lock.unlock();
        }
        changed();
        return info;
    }

    @Override
    public void deleteTarget(String name) {
        List<RegistrySession> closing = new ArrayList<>();
        lock.lock();
        try {
            Target t = target0(name);
            for (Tpg tpg : t.tpgs.values()) {
                dismantle(tpg, closing);
            }
            targets.remove(name);
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        changed();
    }

    @Override
    public List<TargetInfo> targets() {
        lock.lock();
        try {
            return targets.values().stream().map(this::info).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public TargetInfo target(String name) {
        lock.lock();
        try {
            return info(target0(name));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public TpgInfo createTpg(String target, int tag) {
        Names.checkTag(tag);
        TpgInfo info;
        lock.lock();
        try {
            Target t = target0(target);
            if (t.tpgs.containsKey(tag)) {
                throw new TargetException("TPG already exists: " + target + " tpg " + tag);
            }
            Tpg tpg = new Tpg(t, tag);
            t.tpgs.put(tag, tpg);
            info = info(tpg);
        } finally {
            lock.unlock();
        }
        changed();
        return info;
    }

    @Override
    public void deleteTpg(String target, int tag) {
        List<RegistrySession> closing = new ArrayList<>();
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            dismantle(tpg, closing);
            tpg.target.tpgs.remove(tag);
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        changed();
    }

    /** Releases a TPG's portals and collects its sessions for closing. Holds the lock. */
    private void dismantle(Tpg tpg, List<RegistrySession> closing) {
        String fabric = tpg.target.fabric;
        for (PortalAddress p : tpg.portals) {
            listeners.release(fabric, p.address(), fabrics.get(fabric));
        }
        tpg.portals = List.of();
        closing.addAll(tpg.sessions);
    }

    @Override
    public void setTpgAttribute(String target, int tag, String key, String value) {
        List<RegistrySession> closing;
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            tpg.putAttribute(key, Validation.checkAttribute(tpg.target.fabric, key, value));
            closing = tpg.sessionsWithoutAccess();
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        changed();
    }

    // ---- portals, LUNs, ACLs ----

    @Override
    public void addPortal(String target, int tag, String portal) {
        PortalAddress p = PortalAddress.parse(portal);
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (tpg.portal(p) != null) {
                throw new TargetException("portal already exists: " + tpg.describe() + " portal " + p);
            }
            String fabric = tpg.target.fabric;
            FabricModule module = fabrics.get(fabric);
            String error = listeners.acquire(fabric, p.address(), module);
            if (error != null) {
                listeners.release(fabric, p.address(), module);
                throw new TargetException(error);
            }
            tpg.addPortalEntry(p);
        } finally {
            lock.unlock();
        }
        changed();
    }

    @Override
    public void removePortal(String target, int tag, String portal) {
        PortalAddress p = PortalAddress.parse(portal);
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (tpg.portal(p) == null) {
                throw new TargetException("no such portal: " + tpg.describe() + " portal " + p);
            }
            tpg.removePortalEntry(p);
            String fabric = tpg.target.fabric;
            listeners.release(fabric, p.address(), fabrics.get(fabric));
        } finally {
            lock.unlock();
        }
        changed();
    }

    /** Whether the fabric listens on {@code address} now (for tests and diagnostics). */
    boolean listening(String fabric, InetSocketAddress address) {
        lock.lock();
        try {
            return listeners.listening(fabric, address);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void addLun(String target, int tag, int lun, String backstore) {
        Names.checkLun(lun);
        List<RegistrySession> notify;
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            String mapped = tpg.luns.backstore(lun);
            if (mapped != null) {
                throw new TargetException("LUN already mapped: " + tpg.describe() + " lun " + lun + " -> " + mapped);
            }
            BackstoreObject obj = backstores.get(backstore);
            if (obj == null) {
                throw new TargetException("no such backstore: " + backstore);
            }
            tpg.luns = tpg.luns.with(lun, obj.unit, obj.name);
            notify = List.copyOf(tpg.sessions);
        } finally {
            lock.unlock();
        }
        notify.forEach(s -> s.nexus.lunsChanged());
        changed();
    }

    @Override
    public void removeLun(String target, int tag, int lun) {
        List<RegistrySession> notify;
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (tpg.luns.get(lun) == null) {
                throw new TargetException("no such LUN: " + tpg.describe() + " lun " + lun);
            }
            tpg.luns = tpg.luns.without(lun);
            notify = List.copyOf(tpg.sessions);
        } finally {
            lock.unlock();
        }
        notify.forEach(s -> s.nexus.lunsChanged());
        changed();
    }

    @Override
    public void addAcl(String target, int tag, String initiator) {
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (initiator != null && tpg.acls.containsKey(initiator)) {
                throw new TargetException("ACL already exists: " + tpg.describe() + " acl " + initiator);
            }
            checkScsiName(tpg.target.fabric, "initiator", initiator);
            tpg.putAcl(new AclInfo(initiator, null));
        } finally {
            lock.unlock();
        }
        changed();
    }

    @Override
    public void removeAcl(String target, int tag, String initiator) {
        List<RegistrySession> closing = new ArrayList<>();
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (!tpg.acls.containsKey(initiator)) {
                throw new TargetException("no such ACL: " + tpg.describe() + " acl " + initiator);
            }
            tpg.removeAclEntry(initiator);
            for (RegistrySession s : tpg.sessions) {
                if (s.initiatorName().equals(initiator)) {
                    closing.add(s);
                }
            }
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        changed();
    }

    @Override
    public void setChap(String target, int tag, String initiator, ChapCredentials chap) {
        Validation.checkChap(chap);
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (!tpg.acls.containsKey(initiator)) {
                throw new TargetException("no such ACL: " + tpg.describe() + " acl " + initiator);
            }
            tpg.putAcl(new AclInfo(initiator, chap));
        } finally {
            lock.unlock();
        }
        changed();
    }

    void checkScsiName(String fabric, String what, String name) {
        FabricModule module = fabrics.get(fabric);
        String problem;
        if (name == null || name.isEmpty()) {
            problem = "empty name";
        } else if (module != null) {
            problem = module.validateTargetName(name);
        } else {
            problem = Names.checkScsiName(name);
        }
        if (problem != null) {
            throw new TargetException(what + " name: " + name + ": " + problem);
        }
    }

    private Target target0(String name) {
        Target t = name == null ? null : targets.get(name);
        if (t == null) {
            throw new TargetException("no such target: " + name);
        }
        return t;
    }

    private Tpg tpg0(String target, int tag) {
        Tpg tpg = target0(target).tpgs.get(tag);
        if (tpg == null) {
            throw new TargetException("no such TPG: " + target + " tpg " + tag);
        }
        return tpg;
    }

    private TargetInfo info(Target t) {
        return new TargetInfo(t.name, t.fabric, t.tpgs.values().stream().map(this::info).toList());
    }

    private TpgInfo info(Tpg tpg) {
        LunTable table = tpg.luns;
        List<LunInfo> luns = new ArrayList<>(table.size());
        for (int i = 0; i < table.size(); i++) {
            BackstoreObject obj = backstores.get(table.backstoreAt(i));
            luns.add(new LunInfo(table.lunAt(i), table.backstoreAt(i),
                    obj != null && obj.state == BackstoreInfo.State.ONLINE));
        }
        return new TpgInfo(tpg.tag, tpg.attributes, tpg.portals.stream().map(PortalAddress::text).toList(), luns,
                List.copyOf(tpg.acls.values()));
    }

    // ---- persistence ----

    @Override
    public Configuration configuration() {
        lock.lock();
        try {
            return new Configuration(backstores.values().stream().map(BackstoreObject::info).toList(),
                    targets.values().stream().map(this::info).toList());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<String> restore(Configuration configuration) {
        List<String> problems = new ArrayList<>();
        lock.lock();
        try {
            new Restorer(this, problems).restore(configuration);
        } finally {
            lock.unlock();
        }
        changed();
        return problems;
    }

    private void changed() {
        for (TargetServiceListener l : changeListeners) {
            try {
                l.configurationChanged();
            } catch (RuntimeException e) {
                LOG.warn("Listener {} failed: {}", l, e.toString());
            }
        }
    }

    // ---- TargetCore: what fabrics use at login ----

    @Override
    public List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName) {
        List<TpgEndpoint> out = new ArrayList<>();
        for (Target t : targets.values()) {
            if (!t.fabric.equals(fabric)) {
                continue;
            }
            for (Tpg tpg : t.tpgs.values()) {
                if (listensOn(tpg, local) && tpg.access(initiatorName).isPresent()) {
                    out.add(new Endpoint(tpg));
                }
            }
        }
        return out;
    }

    @Override
    public Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local) {
        Target t = targetName == null ? null : targets.get(targetName);
        if (t == null || !t.fabric.equals(fabric)) {
            return Optional.empty();
        }
        for (Tpg tpg : t.tpgs.values()) {
            if (listensOn(tpg, local)) {
                return Optional.of(new Endpoint(tpg));
            }
        }
        return Optional.empty();
    }

    private static boolean listensOn(Tpg tpg, InetSocketAddress local) {
        for (PortalAddress p : tpg.portals) {
            if (p.matches(local)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public ScsiSession openSession(TpgEndpoint endpoint, FabricSession initiator) throws FabricException {
        if (!(endpoint instanceof Endpoint e)) {
            throw new FabricException("not a TPG endpoint of this core: " + endpoint);
        }
        Tpg tpg = e.tpg;
        lock.lock();
        try {
            Target t = targets.get(tpg.target.name);
            if (t != tpg.target || t.tpgs.get(tpg.tag) != tpg) {
                throw new FabricException(tpg.describe() + " no longer exists");
            }
            String name = initiator.initiatorName();
            if (tpg.access(name).isEmpty()) {
                throw new FabricException("initiator " + name + " is not allowed on " + tpg.describe());
            }
            FabricModule fabric = fabrics.get(t.fabric);
            if (fabric == null) {
                throw new FabricException("fabric " + t.fabric + " is not present");
            }
            NexusInfo info = new NexusInfo(t.name, tpg.tag, tpg.relativeTargetPortId(), tpg.targetPortName(),
                    fabric.protocolIdentifier(), name, initiator.initiatorPortName(), initiator.transportId());
            RegistrySession session = new RegistrySession(tpg, engine.openNexus(info, tpg.lunMap, initiator), initiator);
            tpg.sessions.add(session);
            return session;
        } finally {
            lock.unlock();
        }
    }

    /** For tests: waits until the background opener has run what was queued before this call. */
    void awaitOpener() throws Exception {
        opener.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }
}
