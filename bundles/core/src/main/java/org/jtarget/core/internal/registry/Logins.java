package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TpgEndpoint;

/** Owns what fabrics use at login (TargetCore): discovery, the TPG lookup by portal and opening sessions on a TPG. */
final class Logins {
    private final ScsiEngine engine;
    private final ReentrantLock lock;
    private final ConcurrentSkipListMap<String, Target> targets;
    private final Map<String, FabricModule> fabrics;

    /** Shares the registry's lock and maps; only {@link #openSession} locks. */
    Logins(ObjectRegistry registry) {
        this.engine = registry.engine;
        this.lock = registry.lock;
        this.targets = registry.targets;
        this.fabrics = registry.fabrics;
    }

    List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName) {
        List<TpgEndpoint> out = new ArrayList<>(endpoints(fabric, local));
        out.removeIf(e -> e.access(initiatorName).isEmpty());
        return out;
    }

    List<TpgEndpoint> endpoints(String fabric, InetSocketAddress local) {
        List<TpgEndpoint> out = new ArrayList<>();
        for (Target t : targets.values()) {
            if (t.fabric.equals(fabric)) {
                for (Tpg tpg : t.tpgs.values()) {
                    if (listensOn(tpg, local)) {
                        out.add(new Endpoint(tpg));
                    }
                }
            }
        }
        return out;
    }

    Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local) {
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

    ScsiSession openSession(TpgEndpoint endpoint, FabricSession initiator) throws FabricException {
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
}
