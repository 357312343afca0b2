package org.jtarget.core.internal.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.api.AluaGroupInfo;
import org.jtarget.api.TargetException;
import org.jtarget.core.internal.alua.AluaGroup;
import org.jtarget.core.internal.alua.AluaGroups;
import org.jtarget.core.internal.alua.AluaState;
import org.jtarget.core.internal.alua.TransitionMode;
import org.jtarget.core.internal.engine.LogicalUnit;

/**
 * The ALUA part of the TargetService: target port groups of each backstore's LU, and which group each LUN
 * of a TPG reaches its LU through ({@link Tpg#aluaGroups}). After every change of LUNs the port of the TPG
 * concerned is recomputed ({@link #refreshPort}, {@link #dropPorts}; after a restore {@link #refreshAll}), so
 * REPORT TARGET PORT GROUPS lists exactly the TPGs that map the LU.
 */
final class AluaAdmin {
    private final ObjectRegistry r;

    AluaAdmin(ObjectRegistry registry) {
        this.r = registry;
    }

    void createGroup(String backstore, String group, int id) {
        change(backstore, groups -> groups.create(group, id));
    }

    void deleteGroup(String backstore, String group) {
        change(backstore, groups -> groups.delete(group));
    }

    void setGroup(String backstore, String group, String key, String value) {
        change(backstore, groups -> {
            if (groups.group(group) == null) {
                throw new IllegalArgumentException("no such ALUA group: " + group + " (groups: "
                        + String.join(", ", groups.groups().stream().map(AluaGroup::name).toList()) + ")");
            }
            switch (key == null ? "" : key) {
                case "state" -> {
                    AluaState s = AluaState.settable(value);
                    if (s == null) {
                        throw new IllegalArgumentException("state: " + value + " (expected: " + AluaState.settableLabels() + ")");
                    }
                    groups.setState(group, s, false, null);
                }
                case "preferred" -> {
                    if (!"true".equals(value) && !"false".equals(value)) {
                        throw new IllegalArgumentException("preferred: " + value + " (expected: true or false)");
                    }
                    groups.setPreferred(group, Boolean.parseBoolean(value));
                }
                case "mode" -> {
                    TransitionMode m = TransitionMode.of(value);
                    if (m == null) {
                        throw new IllegalArgumentException("mode: " + value + " (expected: implicit, explicit or both)");
                    }
                    groups.setMode(group, m);
                }
                case "transition_time" -> groups.setTransitionSeconds(group, seconds(value));
                default -> throw new IllegalArgumentException("key: " + key
                        + " (expected: state, preferred, mode or transition_time)");
            }
        });
    }

    private static int seconds(String value) {
        try {
            int n = Integer.parseInt(value == null ? "" : value.trim());
            if (n >= 0 && n <= 0xFF) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("transition_time: " + value + " (expected: 0..255 seconds)");
    }

    void map(String target, int tag, int lun, String group) {
        r.lock.lock();
        try {
            Target t = target == null ? null : r.targets.get(target);
            Tpg tpg = t == null ? null : t.tpgs.get(tag);
            if (tpg == null) {
                throw new TargetException("no such TPG: " + target + " tpg " + tag);
            }
            String backstore = tpg.luns.backstore(lun);
            BackstoreObject obj = backstore == null ? null : r.backstores.get(backstore);
            if (obj == null) {
                throw new TargetException("no such LUN: " + tpg.describe() + " lun " + lun);
            }
            if (obj.unit.alua().group(group) == null) {
                throw new TargetException("no such ALUA group: " + group + " of backstore " + backstore + " (groups: "
                        + String.join(", ", names(obj.unit)) + ")");
            }
            tpg.aluaGroup(lun, AluaGroups.DEFAULT_NAME.equals(group) ? null : group);
            refreshPort(tpg, obj);
        } finally {
            r.lock.unlock();
        }
        r.changed();
    }

    private void change(String backstore, java.util.function.Consumer<AluaGroups> action) {
        r.lock.lock();
        try {
            BackstoreObject obj = backstore == null ? null : r.backstores.get(backstore);
            if (obj == null) {
                throw new TargetException("no such backstore: " + backstore);
            }
            try {
                action.accept(obj.unit.alua());
            } catch (IllegalArgumentException e) {
                throw new TargetException("backstore " + backstore + ": " + e.getMessage());
            }
        } finally {
            r.lock.unlock();
        }
        r.changed();
    }

    private static List<String> names(LogicalUnit unit) {
        return unit.alua().groups().stream().map(AluaGroup::name).toList();
    }

    /** The groups as saved; empty when the LU has only the default group as it comes. Holds the lock. */
    static List<AluaGroupInfo> info(LogicalUnit unit) {
        List<AluaGroup> groups = unit.alua().groups();
        if (groups.size() == 1 && groups.get(0).asCreated()) {
            return List.of();
        }
        List<AluaGroupInfo> out = new ArrayList<>();
        for (AluaGroup g : groups) {
            out.add(new AluaGroupInfo(g.name(), g.id(), g.state().label(), g.preferred(), g.mode().label(),
                    g.status(), g.transitionSeconds()));
        }
        return out;
    }

    /** Restores saved groups into a new LU, noting what it skips. */
    static void restore(String backstore, LogicalUnit unit, List<AluaGroupInfo> groups, List<String> problems) {
        for (AluaGroupInfo g : groups) {
            AluaState state = AluaState.settable(g.state());
            TransitionMode mode = TransitionMode.of(g.mode());
            try {
                if (state == null) {
                    throw new IllegalArgumentException("state: " + g.state() + " (expected: " + AluaState.settableLabels() + ")");
                }
                if (mode == null) {
                    throw new IllegalArgumentException("mode: " + g.mode() + " (expected: implicit, explicit or both)");
                }
                unit.alua().restore(new AluaGroup(g.name(), g.id(), state, g.preferred(), mode, g.status(),
                        g.transitionTime()));
            } catch (IllegalArgumentException e) {
                problems.add("backstore " + backstore + " ALUA group " + g.name() + ": " + e.getMessage() + " (skipped)");
            }
        }
    }

    /**
     * Recomputes whether and through which group {@code tpg} reaches {@code obj}'s LU: the group of its LUNs that
     * map it (a non-default one wins when the LU is mapped twice), or not at all. Looks at that TPG only, so
     * LUN changes cost the same with 10,000 targets. Holds the lock.
     */
    static void refreshPort(Tpg tpg, BackstoreObject obj) {
        LunTable table = tpg.luns;
        String group = null;
        for (int i = 0; i < table.size(); i++) {
            if (table.backstoreAt(i).equals(obj.name)) {
                String g = tpg.aluaGroups.get(table.lunAt(i));
                group = g != null ? g : group == null ? AluaGroups.DEFAULT_NAME : group;
            }
        }
        obj.unit.alua().port(new AluaGroups.Port(tpg.target.name, tpg.tag), group);
    }

    /** A TPG goes: it no longer reaches the LUs it maps. Holds the lock. */
    static void dropPorts(ObjectRegistry r, Tpg tpg) {
        LunTable table = tpg.luns;
        for (int i = 0; i < table.size(); i++) {
            BackstoreObject obj = r.backstores.get(table.backstoreAt(i));
            if (obj != null) {
                obj.unit.alua().port(new AluaGroups.Port(tpg.target.name, tpg.tag), null);
            }
        }
    }

    /** Recomputes the ports of every LU in one pass over the tree (after a restore). Holds the lock. */
    static void refreshAll(ObjectRegistry r) {
        Map<String, Map<AluaGroups.Port, String>> ports = new HashMap<>();
        for (Target t : r.targets.values()) {
            for (Tpg tpg : t.tpgs.values()) {
                LunTable table = tpg.luns;
                for (int i = 0; i < table.size(); i++) {
                    String g = tpg.aluaGroups.get(table.lunAt(i));
                    ports.computeIfAbsent(table.backstoreAt(i), b -> new HashMap<>()).merge(
                            new AluaGroups.Port(t.name, tpg.tag), g == null ? AluaGroups.DEFAULT_NAME : g,
                            (a, b) -> AluaGroups.DEFAULT_NAME.equals(a) ? b : a);
                }
            }
        }
        for (BackstoreObject obj : r.backstores.values()) {
            obj.unit.alua().ports(ports.getOrDefault(obj.name, Map.of()));
        }
    }

    /** A TPG's LUN -> group map with one entry changed (null: the default group). */
    static Map<Integer, String> with(Map<Integer, String> groups, int lun, String group) {
        Map<Integer, String> copy = new TreeMap<>(groups);
        if (group == null) {
            copy.remove(lun);
        } else {
            copy.put(lun, group);
        }
        return java.util.Collections.unmodifiableMap(copy);
    }
}
