package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.TpgEndpoint;

/** A TPG as a fabric sees it at login: portals and parameters as of the lookup, access read live. */
final class Endpoint implements TpgEndpoint {
    final Tpg tpg;
    private final List<InetSocketAddress> portals;
    private final Map<String, String> parameters;

    Endpoint(Tpg tpg) {
        this.tpg = tpg;
        this.portals = tpg.portals.stream().map(PortalAddress::address).toList();
        this.parameters = tpg.fabricParameters();
    }

    @Override
    public String targetName() {
        return tpg.target.name;
    }

    @Override
    public int tag() {
        return tpg.tag;
    }

    @Override
    public List<InetSocketAddress> portals() {
        return portals;
    }

    @Override
    public Map<String, String> parameters() {
        return parameters;
    }

    @Override
    public Optional<InitiatorAccess> access(String initiatorName) {
        return tpg.access(initiatorName);
    }

    @Override
    public String toString() {
        return "TpgEndpoint[" + tpg.describe() + "]";
    }
}
