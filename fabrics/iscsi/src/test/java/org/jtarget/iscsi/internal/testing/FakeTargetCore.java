package org.jtarget.iscsi.internal.testing;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;

/**
 * A test-only TargetCore: targets with one TPG each, an access table per initiator (or open access), and
 * sessions served by {@link FakeScsiSession} on one in-memory disk per target.
 */
public final class FakeTargetCore implements TargetCore {
    public final List<FakeTpg> tpgs = new CopyOnWriteArrayList<>();
    public final List<FakeScsiSession> sessions = new CopyOnWriteArrayList<>();
    /** Where sessions complete commands; null runs them on the caller's thread. */
    public volatile Executor completionExecutor;

    public FakeTpg addTarget(String name, int tag, InetSocketAddress portal, int blocks) {
        FakeTpg tpg = new FakeTpg(name, tag, new ArrayList<>(List.of(portal)), new MemoryDisk(blocks));
        tpgs.add(tpg);
        return tpg;
    }

    @Override
    public List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName) {
        List<TpgEndpoint> result = new ArrayList<>();
        for (FakeTpg tpg : tpgs) {
            if (tpg.access(initiatorName).isPresent()) {
                result.add(tpg);
            }
        }
        return result;
    }

    @Override
    public List<TpgEndpoint> endpoints(String fabric, InetSocketAddress local) {
        return List.copyOf(tpgs);
    }

    @Override
    public Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local) {
        return tpgs.stream().filter(t -> t.targetName().equals(targetName)).map(t -> (TpgEndpoint) t).findFirst();
    }

    @Override
    public ScsiSession openSession(TpgEndpoint tpg, FabricSession initiator) throws FabricException {
        FakeTpg fake = (FakeTpg) tpg;
        if (fake.refuseSessions) {
            throw new FabricException("refused");
        }
        FakeScsiSession session = new FakeScsiSession(fake.disk, initiator, completionExecutor);
        sessions.add(session);
        return session;
    }

    /** One TPG. {@code acl} null means every initiator may log in without CHAP. */
    public static final class FakeTpg implements TpgEndpoint {
        private final String name;
        private final int tag;
        public final List<InetSocketAddress> portals;
        public final MemoryDisk disk;
        public final Map<String, String> parameters = new HashMap<>();
        public volatile Map<String, InitiatorAccess> acl;
        public volatile boolean refuseSessions;

        FakeTpg(String name, int tag, List<InetSocketAddress> portals, MemoryDisk disk) {
            this.name = name;
            this.tag = tag;
            this.portals = portals;
            this.disk = disk;
        }

        @Override
        public String targetName() {
            return name;
        }

        @Override
        public int tag() {
            return tag;
        }

        @Override
        public List<InetSocketAddress> portals() {
            return List.copyOf(portals);
        }

        @Override
        public Map<String, String> parameters() {
            return Map.copyOf(parameters);
        }

        @Override
        public Optional<InitiatorAccess> access(String initiatorName) {
            Map<String, InitiatorAccess> table = acl;
            return table == null ? Optional.of(InitiatorAccess.OPEN) : Optional.ofNullable(table.get(initiatorName));
        }
    }
}
