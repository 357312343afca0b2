package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.FabricModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Owns the targets, TPGs, portals, LUNs and ACLs, and the fabric whiteboard that starts and stops portal listeners. */
final class TargetTree {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectRegistry.class);

    private final ObjectRegistry registry;
    private final ReentrantLock lock;
    private final ConcurrentSkipListMap<String, BackstoreObject> backstores;
    private final ConcurrentSkipListMap<String, Target> targets;
    private final Map<String, FabricModule> fabrics;
    private final PortalListeners listeners;

    /** Shares the registry's lock and maps; {@code registry} is told of every change. */
    TargetTree(ObjectRegistry registry) {
        this.registry = registry;
        this.lock = registry.lock;
        this.backstores = registry.backstores;
        this.targets = registry.targets;
        this.fabrics = registry.fabrics;
        this.listeners = registry.listeners;
    }

    // ---- the fabric whiteboard ----

    void fabricArrived(String name, FabricModule fabric) {
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

    void fabricLeft(String name, FabricModule fabric) {
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

    // ---- targets and TPGs ----

    TargetInfo createTarget(String fabric, String name) {
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
        registry.changed();
        return info;
    }

    void deleteTarget(String name) {
        List<RegistrySession> closing = new ArrayList<>();
        lock.lock();
        try {
            Target t = target0(name);
            for (Tpg tpg : t.tpgs.values()) {
                dismantle(tpg, closing);
                AluaAdmin.dropPorts(registry, tpg);
            }
            targets.remove(name);
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        registry.changed();
    }

    List<TargetInfo> targets() {
        lock.lock();
        try {
            return targets.values().stream().map(this::info).toList();
        } finally {
            lock.unlock();
        }
    }

    TargetInfo target(String name) {
        lock.lock();
        try {
            return info(target0(name));
        } finally {
            lock.unlock();
        }
    }

    TpgInfo createTpg(String target, int tag) {
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
        registry.changed();
        return info;
    }

    void deleteTpg(String target, int tag) {
        List<RegistrySession> closing = new ArrayList<>();
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            dismantle(tpg, closing);
            AluaAdmin.dropPorts(registry, tpg);
            tpg.target.tpgs.remove(tag);
        } finally {
            lock.unlock();
        }
        closing.forEach(RegistrySession::forceClose);
        registry.changed();
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

    void setTpgAttribute(String target, int tag, String key, String value) {
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
        registry.changed();
    }

    // ---- portals, LUNs, ACLs ----

    void addPortal(String target, int tag, String portal) {
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
        registry.changed();
    }

    void removePortal(String target, int tag, String portal) {
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
        registry.changed();
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

    void addLun(String target, int tag, int lun, String backstore) {
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
            tpg.aluaGroup(lun, null);
            AluaAdmin.refreshPort(tpg, obj);
            notify = List.copyOf(tpg.sessions);
        } finally {
            lock.unlock();
        }
        notify.forEach(s -> s.nexus.lunsChanged());
        registry.changed();
    }

    void removeLun(String target, int tag, int lun) {
        List<RegistrySession> notify;
        lock.lock();
        try {
            Tpg tpg = tpg0(target, tag);
            if (tpg.luns.get(lun) == null) {
                throw new TargetException("no such LUN: " + tpg.describe() + " lun " + lun);
            }
            BackstoreObject obj = backstores.get(tpg.luns.backstore(lun));
            tpg.luns = tpg.luns.without(lun);
            tpg.aluaGroup(lun, null);
            if (obj != null) {
                AluaAdmin.refreshPort(tpg, obj);
            }
            notify = List.copyOf(tpg.sessions);
        } finally {
            lock.unlock();
        }
        notify.forEach(s -> s.nexus.lunsChanged());
        registry.changed();
    }

    void addAcl(String target, int tag, String initiator) {
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
        registry.changed();
    }

    void removeAcl(String target, int tag, String initiator) {
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
        registry.changed();
    }

    void setChap(String target, int tag, String initiator, ChapCredentials chap) {
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
        registry.changed();
    }

    void checkScsiName(String fabric, String what, String name) {
        FabricModule module = fabrics.get(fabric);
        String problem;
        if (name == null || name.isEmpty()) {
            problem = "empty name";
        } else if (module != null) {
            problem = module.validateTargetName(name);
        } else if (fabric.equals("iscsi")) {
            problem = Names.checkScsiName(name);
        } else {
            // another fabric not (yet) present, e.g. at restore before its bundle starts: its own rule applies
            // when it arrives; meanwhile only what no fabric accepts is refused
            problem = Names.checkAnyFabricName(name);
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

    TargetInfo info(Target t) {
        return new TargetInfo(t.name, t.fabric, t.tpgs.values().stream().map(this::info).toList());
    }

    private TpgInfo info(Tpg tpg) {
        LunTable table = tpg.luns;
        List<LunInfo> luns = new ArrayList<>(table.size());
        for (int i = 0; i < table.size(); i++) {
            BackstoreObject obj = backstores.get(table.backstoreAt(i));
            luns.add(new LunInfo(table.lunAt(i), table.backstoreAt(i),
                    obj != null && obj.state == BackstoreInfo.State.ONLINE, tpg.aluaGroups.get(table.lunAt(i))));
        }
        return new TpgInfo(tpg.tag, tpg.attributes, tpg.portals.stream().map(PortalAddress::text).toList(), luns,
                List.copyOf(tpg.acls.values()));
    }
}
