package org.jtarget.shell.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.spi.fabric.ChapCredentials;

/** An in-memory TargetService that refuses what the core refuses, with messages of the same form. */
final class FakeTargetService implements TargetService {
    static final Map<String, List<ParameterDescriptor>> TYPES = Map.of(
            "file", List.of(new ParameterDescriptor("file", "path of the backing file, relative to data/", true, null),
                    new ParameterDescriptor("size", "capacity, with suffix K, M, G or T", false, "1G")),
            "memory", List.of(new ParameterDescriptor("size", "capacity, with suffix K, M, G or T", true, null)));

    /** The types deployed now; a test may add one (a plugin). */
    final Map<String, List<ParameterDescriptor>> types = new TreeMap<>(TYPES);
    private final Map<String, BackstoreInfo> backstores = new TreeMap<>();
    private final Map<String, Target> targets = new TreeMap<>();
    /** What the last setChap call received, to check what the shell passed on. */
    ChapCredentials lastChap;

    private static final class Target {
        final String fabric;
        final Map<Integer, Tpg> tpgs = new TreeMap<>();

        Target(String fabric) {
            this.fabric = fabric;
        }
    }

    private static final class Tpg {
        final Map<String, String> attributes = new TreeMap<>();
        final List<String> portals = new ArrayList<>();
        final Map<Integer, String> luns = new TreeMap<>();
        final Map<String, ChapCredentials> acls = new TreeMap<>();
        final Map<Integer, String> aluaGroups = new TreeMap<>();
    }

    /** Backstore -> ALUA group name -> group (the default group is added on first use). */
    private final Map<String, Map<String, org.jtarget.api.AluaGroupInfo>> alua = new TreeMap<>();
    /** The last setAluaGroup call, as "backstore group key value". */
    String lastAluaSet;

    private Map<String, org.jtarget.api.AluaGroupInfo> groups(String backstore) {
        if (!backstores.containsKey(backstore)) {
            throw new TargetException("no such backstore: " + backstore);
        }
        return alua.computeIfAbsent(backstore, b -> new TreeMap<>(Map.of(org.jtarget.api.AluaGroupInfo.DEFAULT_NAME,
                new org.jtarget.api.AluaGroupInfo(org.jtarget.api.AluaGroupInfo.DEFAULT_NAME, 1, "active_optimized",
                        false, "both"))));
    }

    @Override
    public synchronized void createAluaGroup(String backstore, String group, int id) {
        if (groups(backstore).putIfAbsent(group, new org.jtarget.api.AluaGroupInfo(group, id, "active_optimized",
                false, "both")) != null) {
            throw new TargetException("backstore " + backstore + ": group already exists: " + group);
        }
        sync(backstore);
    }

    @Override
    public synchronized void deleteAluaGroup(String backstore, String group) {
        if (groups(backstore).remove(group) == null) {
            throw new TargetException("backstore " + backstore + ": no such ALUA group: " + group);
        }
        sync(backstore);
    }

    @Override
    public synchronized void setAluaGroup(String backstore, String group, String key, String value) {
        org.jtarget.api.AluaGroupInfo g = groups(backstore).get(group);
        if (g == null) {
            throw new TargetException("backstore " + backstore + ": no such ALUA group: " + group);
        }
        if (!List.of("state", "preferred", "mode").contains(key)) {
            throw new TargetException("backstore " + backstore + ": key: " + key + " (expected: state, preferred or mode)");
        }
        if (key.equals("state")) {
            groups(backstore).put(group, new org.jtarget.api.AluaGroupInfo(group, g.id(), value, g.preferred(), g.mode()));
        }
        lastAluaSet = backstore + " " + group + " " + key + " " + value;
        sync(backstore);
    }

    @Override
    public synchronized void mapAluaGroup(String target, int tag, int lun, String group) {
        Tpg g = tpg(target, tag);
        String backstore = g.luns.get(lun);
        if (backstore == null) {
            throw new TargetException("no such LUN: " + lun);
        }
        if (!groups(backstore).containsKey(group)) {
            throw new TargetException("no such ALUA group: " + group);
        }
        g.aluaGroups.put(lun, group);
    }

    private void sync(String backstore) {
        BackstoreInfo b = backstores.get(backstore);
        backstores.put(backstore, new BackstoreInfo(b.name(), b.type(), b.parameters(), b.state(), b.detail(),
                b.blockSize(), b.blockCount(), b.serial(), b.attributes(), List.copyOf(groups(backstore).values())));
    }

    @Override
    public List<String> backstoreTypes() {
        return List.copyOf(types.keySet());
    }

    @Override
    public List<ParameterDescriptor> backstoreParameters(String type) {
        List<ParameterDescriptor> p = types.get(type);
        if (p == null) {
            throw new TargetException("no such backstore type: " + type);
        }
        return p;
    }

    @Override
    public synchronized BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters) {
        if (backstores.containsKey(name)) {
            throw new TargetException("backstore exists: " + name);
        }
        long bytes = parseSize(parameters.getOrDefault("size", "1G"));
        BackstoreInfo info = new BackstoreInfo(name, type, parameters, BackstoreInfo.State.ONLINE, "", 512,
                bytes / 512, "serial-" + name);
        backstores.put(name, info);
        return info;
    }

    /** Adds a backstore as the core keeps one whose provider is gone. */
    synchronized void addOffline(String name, String type, Map<String, String> parameters) {
        backstores.put(name, new BackstoreInfo(name, type, parameters, BackstoreInfo.State.OFFLINE,
                "no provider for type " + type, 0, 0, "serial-" + name));
    }

    private static long parseSize(String size) {
        char unit = size.charAt(size.length() - 1);
        int shift = "KMGT".indexOf(unit);
        if (shift < 0) {
            return Long.parseLong(size);
        }
        return Long.parseLong(size.substring(0, size.length() - 1)) << (10 * (shift + 1));
    }

    @Override
    public synchronized void deleteBackstore(String name, boolean destroyData) {
        if (!backstores.containsKey(name)) {
            throw new TargetException("no such backstore: " + name);
        }
        for (Map.Entry<String, Target> t : targets.entrySet()) {
            for (Map.Entry<Integer, Tpg> g : t.getValue().tpgs.entrySet()) {
                for (Map.Entry<Integer, String> l : g.getValue().luns.entrySet()) {
                    if (l.getValue().equals(name)) {
                        throw new TargetException("backstore " + name + " is in use by LUN " + l.getKey()
                                + " of TPG " + g.getKey() + " of " + t.getKey());
                    }
                }
            }
        }
        backstores.remove(name);
    }

    /** Persistent reservation states a test sets, by backstore. */
    final Map<String, org.jtarget.api.ReservationInfo> reservations = new TreeMap<>();

    @Override
    public synchronized org.jtarget.api.ReservationInfo reservations(String backstore) {
        if (!backstores.containsKey(backstore)) {
            throw new TargetException("no such backstore: " + backstore);
        }
        return reservations.getOrDefault(backstore,
                new org.jtarget.api.ReservationInfo(backstore, 0, 0, "none", false, List.of()));
    }

    @Override
    public synchronized void clearReservations(String backstore) {
        org.jtarget.api.ReservationInfo r = reservations(backstore);
        reservations.put(backstore, new org.jtarget.api.ReservationInfo(backstore, r.generation() + 1, 0, "none",
                r.aptpl(), List.of()));
    }

    @Override
    public synchronized void setBackstoreAttribute(String name, String key, String value) {
        BackstoreInfo b = backstores.get(name);
        if (b == null) {
            throw new TargetException("no such backstore: " + name);
        }
        if (!key.equals(TargetService.ATTR_READ_ONLY) && !key.equals(TargetService.ATTR_REMOVABLE)
                && !key.equals(TargetService.ATTR_PHYSICAL_BLOCK_SIZE)) {
            throw new TargetException("unknown backstore attribute: " + key + " (expected one of: read_only, removable)");
        }
        Map<String, String> attributes = new TreeMap<>(b.attributes());
        if (value == null) {
            attributes.remove(key);
        } else {
            attributes.put(key, value);
        }
        backstores.put(name, new BackstoreInfo(b.name(), b.type(), b.parameters(), b.state(), b.detail(),
                b.blockSize(), b.blockCount(), b.serial(), attributes));
    }

    @Override
    public synchronized List<BackstoreInfo> backstores() {
        return List.copyOf(backstores.values());
    }

    @Override
    public synchronized TargetInfo createTarget(String fabric, String name) {
        if (!name.startsWith("iqn.") && !name.startsWith("eui.") && !name.startsWith("naa.")) {
            throw new TargetException("target name: " + name + " (expected an iqn., eui. or naa. name)");
        }
        if (targets.putIfAbsent(name, new Target(fabric)) != null) {
            throw new TargetException("target exists: " + name);
        }
        return target(name);
    }

    @Override
    public synchronized void deleteTarget(String name) {
        if (targets.remove(name) == null) {
            throw new TargetException("no such target: " + name);
        }
    }

    @Override
    public synchronized List<TargetInfo> targets() {
        // deliberately unsorted: the shell sorts
        List<TargetInfo> list = new ArrayList<>();
        for (String name : targets.keySet()) {
            list.add(0, target(name));
        }
        return list;
    }

    @Override
    public synchronized TargetInfo target(String name) {
        Target t = get(name);
        List<TpgInfo> tpgs = new ArrayList<>();
        t.tpgs.forEach((tag, g) -> {
            List<LunInfo> luns = new ArrayList<>();
            g.luns.forEach((lun, b) -> luns.add(new LunInfo(lun, b,
                    backstores.get(b).state() == BackstoreInfo.State.ONLINE, g.aluaGroups.get(lun))));
            List<AclInfo> acls = new ArrayList<>();
            g.acls.forEach((i, c) -> acls.add(new AclInfo(i, c)));
            tpgs.add(new TpgInfo(tag, g.attributes, g.portals, luns, acls));
        });
        return new TargetInfo(name, t.fabric, tpgs);
    }

    private Target get(String name) {
        Target t = targets.get(name);
        if (t == null) {
            throw new TargetException("no such target: " + name);
        }
        return t;
    }

    private Tpg tpg(String target, int tag) {
        Tpg g = get(target).tpgs.get(tag);
        if (g == null) {
            throw new TargetException("no such TPG: " + tag + " of " + target);
        }
        return g;
    }

    @Override
    public synchronized TpgInfo createTpg(String target, int tag) {
        if (get(target).tpgs.putIfAbsent(tag, new Tpg()) != null) {
            throw new TargetException("TPG exists: " + tag + " of " + target);
        }
        return target(target).tpgs().stream().filter(g -> g.tag() == tag).findFirst().orElseThrow();
    }

    @Override
    public synchronized void deleteTpg(String target, int tag) {
        tpg(target, tag);
        get(target).tpgs.remove(tag);
    }

    @Override
    public synchronized void setTpgAttribute(String target, int tag, String key, String value) {
        Tpg g = tpg(target, tag);
        if (value == null) {
            g.attributes.remove(key);
        } else {
            g.attributes.put(key, value);
        }
    }

    @Override
    public synchronized void addPortal(String target, int tag, String portal) {
        if (!portal.matches("[0-9.]+:[0-9]+|\\[[0-9a-fA-F:]+\\]:[0-9]+")) {
            throw new TargetException("portal: " + portal + " (expected host:port or [ipv6]:port)");
        }
        Tpg g = tpg(target, tag);
        if (g.portals.contains(portal)) {
            throw new TargetException("portal exists: " + portal);
        }
        g.portals.add(portal);
    }

    @Override
    public synchronized void removePortal(String target, int tag, String portal) {
        if (!tpg(target, tag).portals.remove(portal)) {
            throw new TargetException("no such portal: " + portal);
        }
    }

    @Override
    public synchronized void addLun(String target, int tag, int lun, String backstore) {
        Tpg g = tpg(target, tag);
        if (!backstores.containsKey(backstore)) {
            throw new TargetException("no such backstore: " + backstore);
        }
        if (g.luns.putIfAbsent(lun, backstore) != null) {
            throw new TargetException("LUN exists: " + lun);
        }
    }

    @Override
    public synchronized void removeLun(String target, int tag, int lun) {
        if (tpg(target, tag).luns.remove(lun) == null) {
            throw new TargetException("no such LUN: " + lun);
        }
    }

    @Override
    public synchronized void addAcl(String target, int tag, String initiator) {
        Tpg g = tpg(target, tag);
        if (g.acls.containsKey(initiator)) {
            throw new TargetException("ACL exists: " + initiator);
        }
        g.acls.put(initiator, null);
    }

    @Override
    public synchronized void removeAcl(String target, int tag, String initiator) {
        Tpg g = tpg(target, tag);
        if (!g.acls.containsKey(initiator)) {
            throw new TargetException("no such ACL: " + initiator);
        }
        g.acls.remove(initiator);
    }

    @Override
    public synchronized void setChap(String target, int tag, String initiator, ChapCredentials chap) {
        Tpg g = tpg(target, tag);
        if (!g.acls.containsKey(initiator)) {
            throw new TargetException("no such ACL: " + initiator);
        }
        g.acls.put(initiator, chap);
        lastChap = chap;
    }

    @Override
    public Configuration configuration() {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<String> restore(Configuration configuration) {
        throw new UnsupportedOperationException();
    }
}
