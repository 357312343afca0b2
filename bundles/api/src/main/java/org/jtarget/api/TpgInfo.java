package org.jtarget.api;

import java.util.List;
import java.util.Map;

/**
 * A target portal group.
 *
 * @param tag        the TPG tag (1..65535)
 * @param attributes user-set attributes: {@value TargetService#ATTR_GENERATE_NODE_ACLS},
 *                   {@value TargetService#ATTR_AUTHENTICATION}, resource limits
 *                   ({@link org.jtarget.spi.fabric.TpgLimit}), and fabric parameters prefixed with the
 *                   fabric's name and a dot (e.g. {@code iscsi.MaxRecvDataSegmentLength})
 * @param portals    listening addresses as {@code host:port} ({@code [v6]:port} for IPv6)
 * @param luns       LUNs, by number
 * @param acls       initiators allowed, by name
 */
public record TpgInfo(int tag, Map<String, String> attributes, List<String> portals, List<LunInfo> luns,
                      List<AclInfo> acls) {
    public TpgInfo {
        attributes = Map.copyOf(attributes);
        portals = List.copyOf(portals);
        luns = List.copyOf(luns);
        acls = List.copyOf(acls);
    }
}
