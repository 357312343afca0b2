package org.jtarget.core.internal.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jtarget.api.AclInfo;
import org.jtarget.api.TargetService;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.TpgLimit;

/**
 * A target portal group. Every field holds an immutable value replaced under the registry lock, so
 * logins and commands read it without locking.
 */
final class Tpg {
    final Target target;
    final int tag;
    volatile Map<String, String> attributes = Map.of();
    volatile List<PortalAddress> portals = List.of();
    volatile LunTable luns = LunTable.EMPTY;
    /** LUN -> the ALUA group of its LU through which this TPG reaches it; absent: the default group. */
    volatile Map<Integer, String> aluaGroups = Map.of();
    /** Sorted by initiator name. */
    volatile Map<String, AclInfo> acls = Map.of();
    /** Open sessions, for LUN change notices and forced logout. */
    final Set<RegistrySession> sessions = ConcurrentHashMap.newKeySet();
    /** The live LUN view every nexus of this TPG reads. */
    final LunMap lunMap = new LunMap() {
        @Override
        public LogicalUnit get(int lun) {
            return luns.get(lun);
        }

        @Override
        public int[] luns() {
            return luns.luns();
        }

        @Override
        public String targetPortReaching(int relativeTargetPortId, LogicalUnit lu) {
            for (Tpg t : target.tpgs.values()) {
                if (t.relativeTargetPortId() == relativeTargetPortId) {
                    for (int lun : t.luns.luns()) {
                        if (t.luns.get(lun) == lu) {
                            return t.targetPortName();
                        }
                    }
                }
            }
            return null;
        }
    };

    Tpg(Target target, int tag) {
        this.target = target;
        this.tag = tag;
    }

    String describe() {
        return target.name + " tpg " + tag;
    }

    /** SPC-4 relative target port identifier: the tag, unique within the target and stable across restarts. */
    int relativeTargetPortId() {
        return tag;
    }

    /** The iSCSI-style target port name (RFC 7143 4.2.7.1: name + ",t,0x" + TPGT in hex). */
    String targetPortName() {
        return target.name + ",t,0x" + String.format("%04x", tag);
    }

    boolean generateNodeAcls() {
        return "true".equalsIgnoreCase(attributes.get(TargetService.ATTR_GENERATE_NODE_ACLS));
    }

    boolean chapRequired() {
        return "chap".equalsIgnoreCase(attributes.get(TargetService.ATTR_AUTHENTICATION));
    }

    /**
     * What {@code initiator} may do: nothing without an ACL unless generate_node_acls is on; with
     * authentication=chap, only an initiator whose ACL carries CHAP secrets gets in.
     */
    Optional<InitiatorAccess> access(String initiator) {
        AclInfo acl = acls.get(initiator);
        if (acl == null && !generateNodeAcls()) {
            return Optional.empty();
        }
        if (chapRequired()) {
            if (acl == null || acl.chap() == null) {
                return Optional.empty();
            }
            return Optional.of(new InitiatorAccess(true, Optional.of(acl.chap())));
        }
        return Optional.of(InitiatorAccess.OPEN);
    }

    /**
     * Fabric parameters: attributes named {@code <fabric>.<key>}, with the prefix removed, and the resource
     * limits ({@link TpgLimit}) under their own names.
     */
    Map<String, String> fabricParameters() {
        String prefix = target.fabric + ".";
        Map<String, String> out = new HashMap<>();
        attributes.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            } else if (TpgLimit.forKey(k) != null) {
                out.put(k, v);
            }
        });
        return Map.copyOf(out);
    }

    void aluaGroup(int lun, String group) {
        aluaGroups = AluaAdmin.with(aluaGroups, lun, group);
    }

    void putAttribute(String key, String value) {
        Map<String, String> copy = new HashMap<>(attributes);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        attributes = Map.copyOf(copy);
    }

    void putAcl(AclInfo acl) {
        TreeMap<String, AclInfo> copy = new TreeMap<>(acls);
        copy.put(acl.initiator(), acl);
        acls = java.util.Collections.unmodifiableMap(copy);
    }

    void removeAclEntry(String initiator) {
        TreeMap<String, AclInfo> copy = new TreeMap<>(acls);
        copy.remove(initiator);
        acls = java.util.Collections.unmodifiableMap(copy);
    }

    void addPortalEntry(PortalAddress portal) {
        List<PortalAddress> copy = new ArrayList<>(portals);
        copy.add(portal);
        portals = List.copyOf(copy);
    }

    void removePortalEntry(PortalAddress portal) {
        List<PortalAddress> copy = new ArrayList<>(portals);
        copy.removeIf(p -> p.address().equals(portal.address()));
        portals = List.copyOf(copy);
    }

    PortalAddress portal(PortalAddress like) {
        for (PortalAddress p : portals) {
            if (p.address().equals(like.address())) {
                return p;
            }
        }
        return null;
    }

    /** Sessions whose initiator is no longer allowed in. */
    List<RegistrySession> sessionsWithoutAccess() {
        List<RegistrySession> out = new ArrayList<>();
        for (RegistrySession s : sessions) {
            if (access(s.initiatorName()).isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
