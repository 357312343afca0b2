package org.jtarget.core.internal.alua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The groups of one LU: the default group, transitions through transitioning, and what is refused. */
class AluaGroupsTest {
    final List<Object> changes = new ArrayList<>();
    final AluaGroups groups = new AluaGroups(by -> changes.add(by == null ? "all" : by));

    @Test
    void everyLuStartsWithTheDefaultGroupActiveOptimized() {
        AluaGroup g = groups.groupOf("iqn.x", 7);
        assertEquals(new AluaGroup("default_tg_pt_gp", 1, AluaState.ACTIVE_OPTIMIZED, false, TransitionMode.BOTH, 0, 2), g);
    }

    @Test
    void aChangePassesThroughTransitioningThenTellsTheListener() {
        List<String> seen = new ArrayList<>();
        groups.observer(g -> seen.add(g.state() + "/" + g.status()));
        groups.setState(AluaGroups.DEFAULT_NAME, AluaState.STANDBY, false, null);
        assertEquals(List.of("TRANSITIONING/2", "STANDBY/2"), seen);
        assertEquals(List.of("all"), changes);
        groups.setState(AluaGroups.DEFAULT_NAME, AluaState.ACTIVE_OPTIMIZED, true, "nexus-1");
        assertEquals(List.of("TRANSITIONING/2", "STANDBY/2", "TRANSITIONING/1", "ACTIVE_OPTIMIZED/1"), seen);
        assertEquals(List.of("all", "nexus-1"), changes);
        groups.setState(AluaGroups.DEFAULT_NAME, AluaState.ACTIVE_OPTIMIZED, false, null);
        assertEquals(2, changes.size(), "setting the state a group has changes nothing");
    }

    @Test
    void portsReachTheLuThroughTheirGroup() {
        groups.create("west", 2);
        groups.ports(Map.of(new AluaGroups.Port("iqn.x", 1), "default_tg_pt_gp", new AluaGroups.Port("iqn.x", 2), "west",
                new AluaGroups.Port("iqn.x", 3), "gone"));
        assertEquals("west", groups.groupOf("iqn.x", 2).name());
        assertEquals(AluaGroups.DEFAULT_NAME, groups.groupOf("iqn.x", 3).name(), "an unknown group: the default one");
        assertEquals(List.of(1, 3), groups.relativePortIds(AluaGroups.DEFAULT_NAME));
        assertEquals(List.of(2), groups.relativePortIds("west"));
    }

    @Test
    void refusalsSayWhy() {
        groups.create("west", 2);
        assertEquals("id: 2 (expected: one no other group has; west has it)",
                assertThrows(IllegalArgumentException.class, () -> groups.create("east", 2)).getMessage());
        assertEquals("id: 0 (expected: 1..65535)",
                assertThrows(IllegalArgumentException.class, () -> groups.create("east", 0)).getMessage());
        assertEquals("group already exists: west",
                assertThrows(IllegalArgumentException.class, () -> groups.create("west", 3)).getMessage());
        assertEquals("group name: a b (expected: 1 to 64 of letters, digits, '_', '.', ':', '-')",
                assertThrows(IllegalArgumentException.class, () -> groups.create("a b", 3)).getMessage());
        assertEquals("group: default_tg_pt_gp (expected: not the default group, which every LU has)",
                assertThrows(IllegalArgumentException.class, () -> groups.delete(AluaGroups.DEFAULT_NAME)).getMessage());
        groups.ports(Map.of(new AluaGroups.Port("iqn.x", 2), "west"));
        assertEquals("group west still has ports [2] (map their LUNs to another group first)",
                assertThrows(IllegalArgumentException.class, () -> groups.delete("west")).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> groups.setState("west", AluaState.TRANSITIONING, false, null));
        assertEquals("no such ALUA group: east (groups: default_tg_pt_gp, west)",
                assertThrows(IllegalArgumentException.class, () -> groups.setPreferred("east", true)).getMessage());
        groups.ports(Map.of());
        groups.delete("west");
        assertEquals(1, groups.groups().size());
    }

    @Test
    void restoreTakesTheSavedStateWithoutATransition() {
        AluaGroup west = new AluaGroup("west", 5, AluaState.STANDBY, true, TransitionMode.EXPLICIT,
                AluaGroup.STATUS_ALTERED_BY_STPG, 30);
        groups.restore(west);
        groups.restore(new AluaGroup(AluaGroups.DEFAULT_NAME, 1, AluaState.UNAVAILABLE, false, TransitionMode.IMPLICIT,
                AluaGroup.STATUS_ALTERED_IMPLICITLY, 0));
        assertEquals(west, groups.group("west"), "the STATUS CODE is kept with the state");
        assertEquals(AluaState.UNAVAILABLE, groups.group(AluaGroups.DEFAULT_NAME).state());
        assertEquals(AluaGroup.STATUS_ALTERED_IMPLICITLY, groups.group(AluaGroups.DEFAULT_NAME).status());
        assertEquals(30, groups.transitionSeconds(), "the LU reports the longest transition time of its groups");
        assertEquals(List.of(), changes, "no unit attention: nobody is logged in yet");
    }
}
