package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TargetServiceListener;
import org.jtarget.api.TpgInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.spi.backstore.Backstore;
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
 * The DS façade over the object tree (LIO's configfs hierarchy): owns the shared lock, maps and whiteboard
 * references, and delegates to {@link BackstoreObjects}, {@link TargetTree}, {@link Logins} and {@link Restorer}.
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

    final ScsiEngine engine;
    private final Path dataDirectory;
    final ReentrantLock lock = new ReentrantLock();
    final ConcurrentSkipListMap<String, BackstoreObject> backstores = new ConcurrentSkipListMap<>();
    final ConcurrentSkipListMap<String, Target> targets = new ConcurrentSkipListMap<>();
    final Map<String, BackstoreProvider> providers = new ConcurrentHashMap<>();
    final Map<String, FabricModule> fabrics = new ConcurrentHashMap<>();
    final PortalListeners listeners = new PortalListeners();
    private final List<TargetServiceListener> changeListeners = new CopyOnWriteArrayList<>();
    private final BackstoreObjects backstoreObjects;
    private final TargetTree tree;
    private final Logins logins;
    private final AluaAdmin alua;

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
        this.backstoreObjects = new BackstoreObjects(this);
        this.tree = new TargetTree(this);
        this.logins = new Logins(this);
        this.alua = new AluaAdmin(this);
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
        backstoreObjects.stopOpener();
        List<Map.Entry<BackstoreObject, Backstore>> closing;
        lock.lock();
        try {
            listeners.stopAll(fabrics);
            closing = backstoreObjects.offlineAll();
        } finally {
            lock.unlock();
        }
        backstoreObjects.closeAllDrained(closing);
    }

    // ---- whiteboard: backstore providers, fabrics, listeners ----

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindProvider(BackstoreProvider provider, Map<String, Object> properties) {
        String type = name(properties.get(BackstoreProvider.TYPE_PROPERTY), provider::type);
        backstoreObjects.providerArrived(type, provider);
    }

    void unbindProvider(BackstoreProvider provider, Map<String, Object> properties) {
        String type = name(properties.get(BackstoreProvider.TYPE_PROPERTY), provider::type);
        backstoreObjects.providerLeft(type, provider);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindFabric(FabricModule fabric, Map<String, Object> properties) {
        tree.fabricArrived(name(properties.get(FabricModule.NAME_PROPERTY), fabric::name), fabric);
    }

    void unbindFabric(FabricModule fabric, Map<String, Object> properties) {
        tree.fabricLeft(name(properties.get(FabricModule.NAME_PROPERTY), fabric::name), fabric);
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

    // ---- backstores: BackstoreObjects ----

    @Override
    public List<String> backstoreTypes() {
        return backstoreObjects.backstoreTypes();
    }

    @Override
    public List<ParameterDescriptor> backstoreParameters(String type) {
        return backstoreObjects.backstoreParameters(type);
    }

    @Override
    public BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters) {
        return backstoreObjects.createBackstore(name, type, parameters);
    }

    @Override
    public void deleteBackstore(String name, boolean destroyData) {
        backstoreObjects.deleteBackstore(name, destroyData);
    }

    @Override
    public void setBackstoreAttribute(String name, String key, String value) {
        backstoreObjects.setBackstoreAttribute(name, key, value);
    }

    @Override
    public List<BackstoreInfo> backstores() {
        return backstoreObjects.backstores();
    }

    @Override
    public org.jtarget.api.ReservationInfo reservations(String backstore) {
        return backstoreObjects.unit(backstore).reservations();
    }

    @Override
    public void clearReservations(String backstore) {
        backstoreObjects.unit(backstore).clearReservations();
        LOG.info("Persistent reservations of {} cleared by the administrator", backstore);
    }

    /** For {@link Restorer}. */
    String newSerial() {
        return backstoreObjects.newSerial();
    }

    /** For {@link Restorer}: opens an offline object (at once when its provider can). Holds the lock. */
    void open(BackstoreObject obj) {
        backstoreObjects.open(obj);
    }

    // ---- targets, TPGs, portals, LUNs, ACLs: TargetTree ----

    @Override
    public TargetInfo createTarget(String fabric, String name) {
        return tree.createTarget(fabric, name);
    }

    @Override
    public void deleteTarget(String name) {
        tree.deleteTarget(name);
    }

    @Override
    public List<TargetInfo> targets() {
        return tree.targets();
    }

    @Override
    public TargetInfo target(String name) {
        return tree.target(name);
    }

    @Override
    public TpgInfo createTpg(String target, int tag) {
        return tree.createTpg(target, tag);
    }

    @Override
    public void deleteTpg(String target, int tag) {
        tree.deleteTpg(target, tag);
    }

    @Override
    public void setTpgAttribute(String target, int tag, String key, String value) {
        tree.setTpgAttribute(target, tag, key, value);
    }

    @Override
    public void addPortal(String target, int tag, String portal) {
        tree.addPortal(target, tag, portal);
    }

    @Override
    public void removePortal(String target, int tag, String portal) {
        tree.removePortal(target, tag, portal);
    }

    /** Whether the fabric listens on {@code address} now (for tests and diagnostics). */
    boolean listening(String fabric, InetSocketAddress address) {
        return tree.listening(fabric, address);
    }

    @Override
    public void addLun(String target, int tag, int lun, String backstore) {
        tree.addLun(target, tag, lun, backstore);
    }

    @Override
    public void removeLun(String target, int tag, int lun) {
        tree.removeLun(target, tag, lun);
    }

    @Override
    public void addAcl(String target, int tag, String initiator) {
        tree.addAcl(target, tag, initiator);
    }

    @Override
    public void removeAcl(String target, int tag, String initiator) {
        tree.removeAcl(target, tag, initiator);
    }

    @Override
    public void setChap(String target, int tag, String initiator, ChapCredentials chap) {
        tree.setChap(target, tag, initiator, chap);
    }

    void checkScsiName(String fabric, String what, String name) {
        tree.checkScsiName(fabric, what, name);
    }

    // ---- ALUA target port groups: AluaAdmin ----

    @Override
    public void createAluaGroup(String backstore, String group, int id) {
        alua.createGroup(backstore, group, id);
    }

    @Override
    public void deleteAluaGroup(String backstore, String group) {
        alua.deleteGroup(backstore, group);
    }

    @Override
    public void setAluaGroup(String backstore, String group, String key, String value) {
        alua.setGroup(backstore, group, key, value);
    }

    @Override
    public void mapAluaGroup(String target, int tag, int lun, String group) {
        alua.map(target, tag, lun, group);
    }

    // ---- persistence ----

    @Override
    public Configuration configuration() {
        lock.lock();
        try {
            return new Configuration(backstores.values().stream().map(BackstoreObject::info).toList(),
                    targets.values().stream().map(tree::info).toList());
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

    /** Tells every {@link TargetServiceListener}; called by the parts after they release the lock. */
    void changed() {
        for (TargetServiceListener l : changeListeners) {
            try {
                l.configurationChanged();
            } catch (RuntimeException e) {
                LOG.warn("Listener {} failed: {}", l, e.toString());
            }
        }
    }

    // ---- TargetCore: what fabrics use at login (Logins) ----

    @Override
    public List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName) {
        return logins.discover(fabric, local, initiatorName);
    }

    @Override
    public List<TpgEndpoint> endpoints(String fabric, InetSocketAddress local) {
        return logins.endpoints(fabric, local);
    }

    @Override
    public Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local) {
        return logins.lookup(fabric, targetName, local);
    }

    @Override
    public ScsiSession openSession(TpgEndpoint endpoint, FabricSession initiator) throws FabricException {
        return logins.openSession(endpoint, initiator);
    }

    /** For tests: waits until the background opener has run what was queued before this call. */
    void awaitOpener() throws Exception {
        backstoreObjects.awaitOpener();
    }
}
