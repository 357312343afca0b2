package org.jtarget.core.internal.alua;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The target port groups of one logical unit (SPC-4 5.15.2) and which group each target port reaches it
 * through. Every LU has {@link #DEFAULT_NAME} (id 1, active/optimized, implicit and explicit, like LIO's
 * default_tg_pt_gp); a port not mapped otherwise belongs to it. A target port is a TPG: its relative target
 * port identifier is the TPG tag.
 *
 * <p>Reads (every command's gate, INQUIRY, REPORT TARGET PORT GROUPS) take an immutable snapshot without
 * locking; changes are serialised on this object and replace the snapshot. Errors are
 * {@link IllegalArgumentException}s whose message is for the user.
 */
public final class AluaGroups {
    public static final String DEFAULT_NAME = "default_tg_pt_gp";
    public static final int DEFAULT_ID = 1;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    /** A target port: a TPG of a target (relative target port identifier = the tag). */
    public record Port(String target, int tag) {
    }

    /** Told after a group's access state changed. */
    public interface Listener {
        /**
         * Every I_T nexus of the LU but {@code by} (null: every one) gets ASYMMETRIC ACCESS STATE CHANGED
         * (SPC-4 5.15.2.6: after an implicit change all, after SET TARGET PORT GROUPS all but its own).
         */
        void accessStateChanged(Object by);
    }

    private record Snapshot(Map<String, AluaGroup> groups, Map<Port, String> ports) {
    }

    private final Listener listener;
    private volatile Snapshot snapshot;
    /** Sees every state a group takes, transitioning included (for tests). */
    private volatile Consumer<AluaGroup> observer = g -> {
    };

    public AluaGroups(Listener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        Map<String, AluaGroup> groups = new TreeMap<>();
        groups.put(DEFAULT_NAME, AluaGroup.initial(DEFAULT_NAME, DEFAULT_ID));
        snapshot = new Snapshot(Collections.unmodifiableMap(groups), Map.of());
    }

    /** Told after SET TARGET PORT GROUPS changed states (the registry saves the configuration). */
    private volatile Runnable explicitChange = () -> {
    };

    void observer(Consumer<AluaGroup> o) {
        observer = o;
    }

    public void onExplicitChange(Runnable r) {
        explicitChange = Objects.requireNonNull(r, "r");
    }

    // ---- reads ----

    /** The groups, by TARGET PORT GROUP id. */
    public List<AluaGroup> groups() {
        List<AluaGroup> out = new ArrayList<>(snapshot.groups().values());
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }

    /** The group named so, or null. */
    public AluaGroup group(String name) {
        return snapshot.groups().get(name);
    }

    /** The group through which {@code target}'s TPG {@code tag} reaches this LU (the default one when unmapped). */
    public AluaGroup groupOf(String target, int tag) {
        Snapshot s = snapshot;
        String name = s.ports().get(new Port(target, tag));
        AluaGroup g = name == null ? null : s.groups().get(name);
        return g != null ? g : s.groups().get(DEFAULT_NAME);
    }

    /** The relative target port identifiers of the ports in {@code group}, ascending. */
    public List<Integer> relativePortIds(String group) {
        List<Integer> out = new ArrayList<>();
        for (Map.Entry<Port, String> e : snapshot.ports().entrySet()) {
            if (e.getValue().equals(group) && !out.contains(e.getKey().tag())) {
                out.add(e.getKey().tag());
            }
        }
        Collections.sort(out);
        return out;
    }

    // ---- changes ----

    public synchronized void create(String name, int id) {
        checkName(name);
        Snapshot s = snapshot;
        if (s.groups().containsKey(name)) {
            throw new IllegalArgumentException("group already exists: " + name);
        }
        if (id < 1 || id > 0xFFFF) {
            throw new IllegalArgumentException("id: " + id + " (expected: 1..65535)");
        }
        for (AluaGroup g : s.groups().values()) {
            if (g.id() == id) {
                throw new IllegalArgumentException("id: " + id + " (expected: one no other group has; "
                        + g.name() + " has it)");
            }
        }
        put(AluaGroup.initial(name, id));
    }

    /** Deletes a group no port is in. */
    public synchronized void delete(String name) {
        require(name);
        if (DEFAULT_NAME.equals(name)) {
            throw new IllegalArgumentException("group: " + name + " (expected: not the default group, which every LU has)");
        }
        if (snapshot.ports().containsValue(name)) {
            throw new IllegalArgumentException("group " + name + " still has ports " + relativePortIds(name)
                    + " (map their LUNs to another group first)");
        }
        Map<String, AluaGroup> groups = new TreeMap<>(snapshot.groups());
        groups.remove(name);
        snapshot = new Snapshot(Collections.unmodifiableMap(groups), snapshot.ports());
    }

    /**
     * Restores a saved group as it was, STATUS CODE included (no transition, no unit attention: no nexus exists
     * yet), creating it or replacing the default group's settings.
     */
    public synchronized void restore(AluaGroup saved) {
        checkName(saved.name());
        AluaGroup g = saved;
        if (g.state() == AluaState.TRANSITIONING) {
            g = g.withState(AluaState.ACTIVE_OPTIMIZED, g.status());
        }
        if (DEFAULT_NAME.equals(g.name()) && g.id() != DEFAULT_ID) {
            g = new AluaGroup(g.name(), DEFAULT_ID, g.state(), g.preferred(), g.mode(), g.status(),
                    g.transitionSeconds());
        }
        for (AluaGroup other : snapshot.groups().values()) {
            if (other.id() == g.id() && !other.name().equals(g.name())) {
                throw new IllegalArgumentException("id: " + g.id() + " (expected: one no other group has; "
                        + other.name() + " has it)");
            }
        }
        put(g);
    }

    /**
     * Changes a group's primary access state: it passes through transitioning, takes the new state and STATUS
     * CODE (altered by SET TARGET PORT GROUPS when {@code explicit}, else implicitly), then the listener raises
     * the unit attentions. Setting the state a group has changes nothing.
     *
     * <p>The transition is one indivisible step (SPC-4 5.15.2.5): nothing has to move for a state of jtarget to
     * change, so transitioning lasts as long as replacing the snapshot, and a command sees the old state or the
     * new one. That is within any IMPLICIT TRANSITION TIME a group reports (the time an initiator allows before it
     * gives a transition up; 0 to 255 s, 2 s unless set), and SET TARGET PORT GROUPS and {@code alua:set} return
     * after the transition has ended.
     *
     * @param by the nexus that sent SET TARGET PORT GROUPS, or null
     */
    public void setState(String name, AluaState state, boolean explicit, Object by) {
        if (state == null || state == AluaState.TRANSITIONING) {
            throw new IllegalArgumentException("state: " + state + " (expected: " + AluaState.settableLabels() + ")");
        }
        synchronized (this) {
            AluaGroup g = require(name);
            if (g.state() == state) {
                return;
            }
            int status = explicit ? AluaGroup.STATUS_ALTERED_BY_STPG : AluaGroup.STATUS_ALTERED_IMPLICITLY;
            put(g.withState(AluaState.TRANSITIONING, status));
            put(g.withState(state, status));
        }
        listener.accessStateChanged(by);
        if (explicit) {
            explicitChange.run();
        }
    }

    public synchronized void setPreferred(String name, boolean preferred) {
        put(require(name).withPreferred(preferred));
    }

    /** The IMPLICIT TRANSITION TIME the group announces, 0..255 seconds. */
    public synchronized void setTransitionSeconds(String name, int seconds) {
        put(require(name).withTransitionSeconds(seconds));
    }

    /**
     * IMPLICIT TRANSITION TIME of the extended header of REPORT TARGET PORT GROUPS: one value for the LU, the
     * longest any of its groups announces (an initiator waits that long whichever group changes).
     */
    public int transitionSeconds() {
        int max = 0;
        for (AluaGroup g : snapshot.groups().values()) {
            max = Math.max(max, g.transitionSeconds());
        }
        return max;
    }

    public synchronized void setMode(String name, TransitionMode mode) {
        put(require(name).withMode(Objects.requireNonNull(mode, "mode")));
    }

    /**
     * Replaces the port membership: every port that reaches this LU, with its group. Ports whose group does
     * not exist (any more) are in the default group.
     */
    public synchronized void ports(Map<Port, String> ports) {
        Map<Port, String> copy = new java.util.HashMap<>();
        ports.forEach((p, g) -> copy.put(p, g != null && snapshot.groups().containsKey(g) ? g : DEFAULT_NAME));
        snapshot = new Snapshot(snapshot.groups(), Map.copyOf(copy));
    }

    /** Sets the group of one port ({@code group} null: the port no longer reaches this LU). */
    public synchronized void port(Port port, String group) {
        Map<Port, String> copy = new java.util.HashMap<>(snapshot.ports());
        if (group == null) {
            copy.remove(port);
        } else {
            copy.put(port, snapshot.groups().containsKey(group) ? group : DEFAULT_NAME);
        }
        snapshot = new Snapshot(snapshot.groups(), Map.copyOf(copy));
    }

    private void put(AluaGroup g) {
        Map<String, AluaGroup> groups = new TreeMap<>(snapshot.groups());
        groups.put(g.name(), g);
        snapshot = new Snapshot(Collections.unmodifiableMap(groups), snapshot.ports());
        observer.accept(g);
    }

    private AluaGroup require(String name) {
        AluaGroup g = snapshot.groups().get(name);
        if (g == null) {
            throw new IllegalArgumentException("no such ALUA group: " + name + " (groups: "
                    + String.join(", ", snapshot.groups().keySet()) + ")");
        }
        return g;
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("group name: " + name
                    + " (expected: 1 to 64 of letters, digits, '_', '.', ':', '-')");
        }
    }
}
