package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtarget.api.AluaGroupInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.TargetException;
import org.jtarget.core.internal.alua.AluaGroups;
import org.jtarget.core.internal.alua.AluaState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ALUA through the TargetService: groups of a backstore's LU, LUN mappings, the ports they give, saving. */
class AluaAdminTest {
    static final String T = "iqn.2026-11.org.jtarget:t1";
    static final String T2 = "iqn.2026-11.org.jtarget:t2";

    @TempDir
    Path home;
    Doubles.Engine engine = new Doubles.Engine();
    ObjectRegistry registry;

    @BeforeEach
    void setUp() throws Exception {
        registry = new ObjectRegistry(engine, home);
        Doubles.Provider file = new Doubles.Provider("file");
        registry.bindProvider(file, file.props());
        Doubles.Fabric iscsi = new Doubles.Fabric();
        registry.bindFabric(iscsi, iscsi.props());
        registry.awaitOpener();
        registry.createBackstore("disk1", "file", Map.of("file", "disk.img", "size", "1G"));
        registry.createTarget("iscsi", T);
        registry.createTpg(T, 1);
        registry.createTpg(T, 2);
        registry.addLun(T, 1, 0, "disk1");
        registry.addLun(T, 2, 3, "disk1");
    }

    AluaGroups alua() {
        return engine.unit("disk1").alua();
    }

    @Test
    void twoTpgsReachOneLuThroughTwoGroups() {
        registry.createAluaGroup("disk1", "west", 2);
        registry.mapAluaGroup(T, 2, 3, "west");
        assertEquals(List.of(1), alua().relativePortIds(AluaGroups.DEFAULT_NAME));
        assertEquals(List.of(2), alua().relativePortIds("west"));
        assertEquals("west", alua().groupOf(T, 2).name());
        assertEquals("west", registry.target(T).tpgs().get(1).luns().get(0).aluaGroup());
        registry.setAluaGroup("disk1", "west", "state", "standby");
        registry.setAluaGroup("disk1", "west", "preferred", "true");
        registry.setAluaGroup("disk1", "west", "mode", "explicit");
        registry.setAluaGroup("disk1", "west", "transition_time", "15");
        assertEquals(new AluaGroupInfo("west", 2, "standby", true, "explicit", 2, 15),
                registry.backstores().get(0).aluaGroups().get(1));
        assertEquals(List.of("all"), engine.unit("disk1").accessStateChanges);
        // the LUN goes: its port leaves the group, and the group can go
        assertEquals("backstore disk1: group west still has ports [2] (map their LUNs to another group first)",
                assertThrows(TargetException.class, () -> registry.deleteAluaGroup("disk1", "west")).getMessage());
        registry.removeLun(T, 2, 3);
        assertEquals(List.of(), alua().relativePortIds("west"));
        registry.deleteAluaGroup("disk1", "west");
        assertEquals(List.of(), registry.backstores().get(0).aluaGroups(), "only the default group, as it comes");
    }

    @Test
    void deletingATpgOrTargetTakesItsPortsAway() {
        registry.createTarget("iscsi", T2);
        registry.createTpg(T2, 1);
        registry.addLun(T2, 1, 0, "disk1");
        assertEquals(List.of(1, 2), alua().relativePortIds(AluaGroups.DEFAULT_NAME));
        registry.deleteTpg(T, 2);
        registry.deleteTarget(T2);
        assertEquals(List.of(1), alua().relativePortIds(AluaGroups.DEFAULT_NAME));
    }

    @Test
    void refusalsSayWhy() {
        assertEquals("no such backstore: nope",
                assertThrows(TargetException.class, () -> registry.createAluaGroup("nope", "g", 2)).getMessage());
        assertEquals("no such ALUA group: east of backstore disk1 (groups: default_tg_pt_gp)",
                assertThrows(TargetException.class, () -> registry.mapAluaGroup(T, 1, 0, "east")).getMessage());
        assertEquals("no such LUN: " + T + " tpg 1 lun 9",
                assertThrows(TargetException.class, () -> registry.mapAluaGroup(T, 1, 9, "east")).getMessage());
        assertEquals("backstore disk1: state: transitioning (expected: active_optimized, active_nonoptimized, standby,"
                        + " unavailable, offline)",
                assertThrows(TargetException.class,
                        () -> registry.setAluaGroup("disk1", AluaGroups.DEFAULT_NAME, "state", "transitioning")).getMessage());
        assertEquals("backstore disk1: key: colour (expected: state, preferred, mode or transition_time)",
                assertThrows(TargetException.class,
                        () -> registry.setAluaGroup("disk1", AluaGroups.DEFAULT_NAME, "colour", "red")).getMessage());
        assertEquals("backstore disk1: transition_time: 256 (expected: 0..255 seconds)",
                assertThrows(TargetException.class, () -> registry.setAluaGroup("disk1", AluaGroups.DEFAULT_NAME,
                        "transition_time", "256")).getMessage());
    }

    @Test
    void groupsStatesAndMappingsSurviveSaveAndRestore() throws Exception {
        registry.createAluaGroup("disk1", "west", 7);
        registry.mapAluaGroup(T, 2, 3, "west");
        registry.setAluaGroup("disk1", "west", "state", "unavailable");
        registry.setAluaGroup("disk1", AluaGroups.DEFAULT_NAME, "state", "active_nonoptimized");
        registry.setAluaGroup("disk1", "west", "transition_time", "9");
        Configuration saved = registry.configuration();

        Doubles.Engine engine2 = new Doubles.Engine();
        ObjectRegistry restored = new ObjectRegistry(engine2, home.resolve("second"));
        List<String> problems = restored.restore(saved);
        assertEquals(List.of(), problems.stream().filter(p -> p.contains("ALUA")).toList());
        AluaGroups groups = engine2.unit("disk1").alua();
        assertEquals(AluaState.UNAVAILABLE, groups.groupOf(T, 2).state());
        assertEquals(7, groups.groupOf(T, 2).id());
        assertEquals(AluaState.ACTIVE_NONOPTIMIZED, groups.groupOf(T, 1).state());
        assertEquals(2, groups.groupOf(T, 2).status(), "STATUS CODE altered implicitly, kept across the restart");
        assertEquals(9, groups.groupOf(T, 2).transitionSeconds());
        assertEquals(List.of(), engine2.unit("disk1").accessStateChanges, "a restore raises no unit attention");
        assertEquals(saved.backstores().get(0).aluaGroups(), restored.configuration().backstores().get(0).aluaGroups());
    }
}
