package org.jtarget.iscsi.internal.session;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtarget.spi.fabric.TpgEndpoint;

/**
 * Builds a SendTargets answer (RFC 7143 §13.3, Appendix C): for each target a TargetName, then a
 * TargetAddress {@code host:port,tag} for every portal of every TPG reported. A wildcard portal address is
 * replaced by the address the initiator connected to.
 */
final class SendTargets {
    private SendTargets() {
    }

    static List<Map.Entry<String, String>> answer(List<TpgEndpoint> tpgs, InetSocketAddress local) {
        Map<String, List<String>> byTarget = new LinkedHashMap<>();
        for (TpgEndpoint tpg : tpgs) {
            List<String> addresses = byTarget.computeIfAbsent(tpg.targetName(), n -> new ArrayList<>());
            for (InetSocketAddress portal : tpg.portals()) {
                InetAddress host = portal.getAddress();
                if (host == null || host.isAnyLocalAddress()) {
                    host = local.getAddress();
                }
                String text = host instanceof Inet6Address ? "[" + host.getHostAddress() + "]" : host.getHostAddress();
                addresses.add(text + ":" + portal.getPort() + "," + tpg.tag());
            }
        }
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        byTarget.forEach((name, addresses) -> {
            pairs.add(new SimpleImmutableEntry<>("TargetName", name));
            addresses.forEach(a -> pairs.add(new SimpleImmutableEntry<>("TargetAddress", a)));
        });
        return pairs;
    }
}
