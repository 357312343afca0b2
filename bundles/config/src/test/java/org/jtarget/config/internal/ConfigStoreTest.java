package org.jtarget.config.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.ChapCredentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigStoreTest {
    static final String T = "iqn.2026-11.org.jtarget:t1";

    @TempDir
    Path home;

    private Path file() {
        return home.resolve("conf").resolve("jtarget.json");
    }

    private List<Path> conf() throws IOException {
        try (Stream<Path> s = Files.list(home.resolve("conf"))) {
            return s.sorted().toList();
        }
    }

    static Configuration sample() {
        BackstoreInfo disk = new BackstoreInfo("disk1", "file", Map.of("file", "disk1.img", "size", "10G"),
                BackstoreInfo.State.OFFLINE, "", 0, 0, "00112233445566ff");
        BackstoreInfo ram = new BackstoreInfo("ram", "memory", Map.of("size", "64M"),
                BackstoreInfo.State.OFFLINE, "", 0, 0, "0a0b0c0d0e0f1011");
        TpgInfo tpg1 = new TpgInfo(1, Map.of("authentication", "chap", "iscsi.MaxRecvDataSegmentLength", "65536"),
                List.of("127.0.0.1:3260", "[0:0:0:0:0:0:0:1]:3260"),
                List.of(new LunInfo(0, "disk1", false), new LunInfo(3, "ram", false)),
                List.of(new AclInfo("iqn.1994-05.com.redhat:a", new ChapCredentials("a", "secret-a-1234", null, null)),
                        new AclInfo("iqn.1994-05.com.redhat:b",
                                new ChapCredentials("b", "secret-b-1234", "tgt", "secret-t-1234")),
                        new AclInfo("iqn.1994-05.com.redhat:c \"quoted\" \u00e9", null)));
        TpgInfo tpg2 = new TpgInfo(2, Map.of(), List.of(), List.of(), List.of());
        return new Configuration(List.of(disk, ram), List.of(new TargetInfo(T, "iscsi", List.of(tpg1, tpg2)),
                new TargetInfo("iqn.2026-11.org.jtarget:t2", "iscsi", List.of())));
    }

    @Test
    void aluaGroupsAndLunMappingsRoundTrip() throws Exception {
        List<org.jtarget.api.AluaGroupInfo> groups = List.of(
                new org.jtarget.api.AluaGroupInfo("default_tg_pt_gp", 1, "active_optimized", false, "both"),
                new org.jtarget.api.AluaGroupInfo("west", 2, "standby", true, "explicit", 1, 12));
        BackstoreInfo disk = new BackstoreInfo("disk1", "file", Map.of("file", "disk1.img"), BackstoreInfo.State.OFFLINE,
                "", 0, 0, "00112233445566aa", Map.of(), groups);
        TpgInfo tpg2 = new TpgInfo(2, Map.of(), List.of(), List.of(new LunInfo(0, "disk1", false, "west")), List.of());
        Configuration c = new Configuration(List.of(disk), List.of(new TargetInfo(T, "iscsi", List.of(tpg2))));
        Files.createDirectories(file().getParent());
        ConfigFile.write(file(), c);
        String json = Files.readString(file());
        assertTrue(json.contains("\"alua_groups\"") && json.contains("\"alua_group\": \"west\""), json);
        assertTrue(json.contains("\"status\": 1") && json.contains("\"transition_time\": 12"), json);
        ConfigFile.Loaded back = ConfigFile.read(file());
        assertEquals(List.of(), back.problems());
        assertEquals(groups, back.configuration().backstores().get(0).aluaGroups());
        assertEquals("west", back.configuration().targets().get(0).tpgs().get(0).luns().get(0).aluaGroup());
        assertFalse(ConfigFile.toJson(sample()).contains("alua"), "nothing written for LUs without ALUA settings");
    }

    @Test
    void backstoreAttributesRoundTripAndOldFilesWithoutThemLoad() throws Exception {
        BackstoreInfo ro = new BackstoreInfo("ro", "file", Map.of("file", "ro.img"), BackstoreInfo.State.OFFLINE, "",
                0, 0, "00112233445566aa", Map.of("read_only", "true", "removable", "false"));
        Configuration c = new Configuration(List.of(ro), List.of());
        String json = ConfigFile.toJson(c);
        assertTrue(json.contains("\"attributes\""), json);
        Files.createDirectories(file().getParent());
        ConfigFile.write(file(), c);
        ConfigFile.Loaded back = ConfigFile.read(file());
        assertEquals(List.of(), back.problems());
        assertEquals(Map.of("read_only", "true", "removable", "false"), back.configuration().backstores().get(0).attributes());
        // a file written before attributes existed
        Files.writeString(file(), "{ \"version\": 1, \"backstores\": [ { \"name\": \"d\", \"type\": \"file\","
                + " \"serial\": \"00112233445566bb\", \"parameters\": { \"file\": \"d.img\" } } ], \"targets\": [] }");
        ConfigFile.Loaded old = ConfigFile.read(file());
        assertEquals(List.of(), old.problems());
        assertEquals(Map.of(), old.configuration().backstores().get(0).attributes());
        assertFalse(ConfigFile.toJson(old.configuration()).contains("attributes\": {}"), "no empty map written");
    }

    @Test
    void firstStartCreatesAndSavesTheDefaultTree() throws Exception {
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        Configuration c = service.restored.get(0);
        BackstoreInfo b = c.backstores().get(0);
        assertEquals("default", b.name());
        assertEquals("file", b.type());
        assertEquals(Map.of("file", "default.img", "size", "1G"), b.parameters());
        TargetInfo t = c.targets().get(0);
        assertEquals("iqn.2026-11.org.jtarget:default", t.name());
        assertEquals("iscsi", t.fabric());
        assertEquals(new TpgInfo(1, Map.of("generate_node_acls", "true", "authentication", "none"),
                List.of("127.0.0.1:3260"), List.of(new LunInfo(0, "default", false)), List.of()), t.tpgs().get(0));
        String json = Files.readString(file());
        assertTrue(json.contains("\"version\": 1"), json);
        assertEquals(c, ConfigFile.read(file()).configuration(), "saved at once");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file())),
                "the file holds CHAP secrets");
        store.deactivate();
    }

    @Test
    void firstStartListensOnJtargetPortal() throws Exception {
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, "127.0.0.1:13260");
        store.activate();
        store.awaitIdle();
        assertEquals(List.of("127.0.0.1:13260"), service.restored.get(0).targets().get(0).tpgs().get(0).portals());
        store.deactivate();
    }

    @Test
    void jtargetPortalReplacesTheDefaultTargetsPortalInASavedTree() throws Exception {
        Configuration saved = Defaults.firstStart(null);
        List<TargetInfo> targets = new ArrayList<>(saved.targets());
        targets.add(new TargetInfo(T, "iscsi", List.of(new TpgInfo(1, Map.of(), List.of("127.0.0.1:3260"),
                List.of(), List.of()))));
        ConfigFile.write(file(), new Configuration(saved.backstores(), targets));

        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, "127.0.0.1:3299");
        store.activate();
        store.awaitIdle();
        Configuration restored = service.restored.get(0);
        assertEquals(List.of("127.0.0.1:3299"), restored.targets().get(0).tpgs().get(0).portals());
        assertEquals(List.of("127.0.0.1:3260"), restored.targets().get(1).tpgs().get(0).portals(), "other targets keep theirs");
        store.deactivate();
    }

    @Test
    void savedTreeLoadsBackEqual() throws Exception {
        FakeTargetService first = new FakeTargetService();
        first.tree = sample();
        ConfigFile.write(file(), first.tree);
        FakeTargetService second = new FakeTargetService();
        ConfigStore store = new ConfigStore(second, home, null);
        store.activate();
        store.awaitIdle();
        assertEquals(sample(), second.restored.get(0));
        assertEquals(List.of(), ConfigFile.read(file()).problems());
        store.deactivate();
        String json = Files.readString(file());
        assertTrue(json.contains("\"mutual_secret\": \"secret-t-1234\""), json);
        assertFalse(json.contains("ONLINE") || json.contains("OFFLINE"), "runtime state is not saved");
    }

    @Test
    void aFailedWriteLeavesTheOldFileIntact() throws Exception {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\": 1}\n");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(file(), out -> {
            out.write("{\"version\": 1, \"backstores\": [");
            out.flush();
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("{\"version\": 1}\n", Files.readString(file()));
        assertEquals(List.of(file()), conf(), "no temporary file is left behind");
    }

    @Test
    void aSaveThatFailsKeepsThePreviousFile() throws Exception {
        FakeTargetService service = new FakeTargetService();
        service.tree = sample();
        ConfigStore store = new ConfigStore(service, home, null);
        ConfigFile.write(file(), sample());
        String before = Files.readString(file());
        store.activate();
        store.awaitIdle();
        service.tree = null; // configuration() now fails the way a broken service would
        store.save();
        assertEquals(before, Files.readString(file()));
        service.tree = sample();
        store.deactivate();
    }

    @Test
    void aBrokenFileIsMovedAsideAndNotRestored() throws Exception {
        Files.createDirectories(file().getParent());
        String broken = "{\"version\": 1, \"backstores\": [ {\"name\": \"disk1\", \"type\": \"file\"\n";
        Files.writeString(file(), broken);
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        assertTrue(service.restored.isEmpty(), "nothing is restored from a broken file, not even the defaults");
        List<Path> files = conf();
        assertEquals(2, files.size(), files.toString());
        Path aside = files.get(1);
        assertTrue(aside.getFileName().toString().matches("jtarget\\.json\\.broken-\\d{8}T\\d{6}Z"), aside.toString());
        assertEquals(broken, Files.readString(aside), "the broken file is kept byte for byte");
        assertEquals(new Configuration(List.of(), List.of()), ConfigFile.read(file()).configuration(),
                "an empty tree is saved, so the next start does not recreate the defaults over it");
        store.deactivate();
    }

    @Test
    void aFileOfAnotherVersionIsNotTouched() throws Exception {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\": 2, \"targets\": []}");
        ConfigFile.UnreadableException e = assertThrows(ConfigFile.UnreadableException.class, () -> ConfigFile.read(file()));
        assertEquals("version: 2 (expected 1)", e.getMessage());
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        assertTrue(conf().stream().anyMatch(p -> p.getFileName().toString().startsWith("jtarget.json.broken-")));
        store.deactivate();
    }

    @Test
    void incompleteEntriesAreReportedAndTheOriginalKept() throws Exception {
        Files.createDirectories(file().getParent());
        String text = """
                {"version": 1,
                 "backstores": [ {"name": "disk1"}, {"name": "ok", "type": "memory", "parameters": {"size": "1M"}} ],
                 "targets": [ {"name": "%s", "fabric": "iscsi",
                               "tpgs": [ {"tag": 1, "luns": [ {"lun": 0} ],
                                          "acls": [ {"initiator": "iqn.1994-05.com.redhat:a", "chap": {"user": "a"}} ]} ]} ]}
                """.formatted(T);
        Files.writeString(file(), text);
        ConfigFile.Loaded loaded = ConfigFile.read(file());
        assertEquals(List.of("backstores[0]: needs \"name\" and \"type\" (entry skipped)",
                "target " + T + " tpg 1: a LUN needs \"lun\" and \"backstore\" (entry skipped)",
                "target " + T + " tpg 1 acl iqn.1994-05.com.redhat:a: chap needs \"user\" and \"secret\", and for"
                        + " mutual CHAP both \"mutual_user\" and \"mutual_secret\" (ACL skipped)"), loaded.problems());
        assertEquals(List.of("ok"), loaded.configuration().backstores().stream().map(BackstoreInfo::name).toList());

        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        Path copy = conf().stream().filter(p -> p.getFileName().toString().startsWith("jtarget.json.before-restore-"))
                .findFirst().orElseThrow();
        assertEquals(text, Files.readString(copy), "what the save drops stays in a copy");
        store.deactivate();
    }

    @Test
    void unknownKeysAreNamedNotSilentlyDropped() throws Exception {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), """
                {"version": 1, "comment": "lab target",
                 "targets": [ {"name": "%s", "fabric": "iscsi",
                               "tpgs": [ {"tag": 1, "portal": ["127.0.0.1:3260"],
                                          "acls": [ {"initiator": "iqn.1994-05.com.redhat:a",
                                                     "chap": {"user": "a", "secret": "s", "mutualUser": "t"}} ]} ]} ]}
                """.formatted(T));
        assertEquals(List.of("unknown key \"comment\" (ignored; it will not be saved again)",
                "unknown key \"targets[0].tpgs[0].portal\" (ignored; it will not be saved again)",
                "unknown key \"targets[0].tpgs[0].acls[0].chap.mutualUser\" (ignored; it will not be saved again)"),
                ConfigFile.read(file()).problems());
    }

    @Test
    void textAfterTheDocumentMakesItUnreadable() throws Exception {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\": 1} {\"version\": 1}");
        ConfigFile.UnreadableException e = assertThrows(ConfigFile.UnreadableException.class, () -> ConfigFile.read(file()));
        assertTrue(e.getMessage().startsWith("not a valid jtarget configuration: text after the document"), e.getMessage());
        Files.writeString(file(), "{\"version\": 1, \"targets\": [ {\"name\": x} ]}");
        assertEquals("not a valid jtarget configuration: malformed JSON at line 1 column 38 path $.targets[0].name",
                assertThrows(ConfigFile.UnreadableException.class, () -> ConfigFile.read(file())).getMessage());
        Files.writeString(file(), "");
        assertEquals("the file is empty", assertThrows(ConfigFile.UnreadableException.class,
                () -> ConfigFile.read(file())).getMessage());
    }

    @Test
    void aFileWrittenByHandForOthersToReadBecomesOwnerOnlyAndSoDoItsCopies() throws Exception {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\": 1, \"backstores\": [ {\"name\": \"broken\"} ]}");
        Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString("rw-r--r--"));
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        for (Path p : conf()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)),
                    p + ": secrets live only in owner-only files");
        }
        assertEquals(2, conf().size(), "the file and its before-restore copy");
        store.deactivate();
    }

    @Test
    void aFileThatCannotBeCopiedAsideIsNeverOverwritten() throws Exception {
        Files.createDirectories(file());  // a folder where the file should be: unreadable and uncopyable
        Files.writeString(file().resolve("keep"), "data");
        FakeTargetService service = new FakeTargetService();
        service.tree = sample();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        store.configurationChanged();
        store.deactivate();
        assertTrue(Files.isDirectory(file()), "nothing replaced it");
        assertEquals("data", Files.readString(file().resolve("keep")));
        assertTrue(service.restored.isEmpty());
    }

    @Test
    void changesAreSavedDebouncedAndOnStop() throws Exception {
        FakeTargetService service = new FakeTargetService();
        ConfigStore store = new ConfigStore(service, home, null);
        store.activate();
        store.awaitIdle();
        int readsAfterStart = service.reads.get();
        service.tree = sample();
        for (int i = 0; i < 100; i++) {
            store.configurationChanged();
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!ConfigFile.read(file()).configuration().equals(sample()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(sample(), ConfigFile.read(file()).configuration());
        assertTrue(service.reads.get() - readsAfterStart <= 2, "100 changes in a burst are saved once or twice, not "
                + (service.reads.get() - readsAfterStart) + " times");

        Configuration last = new Configuration(List.of(), List.of(new TargetInfo(T, "iscsi", List.of())));
        service.tree = last;
        store.configurationChanged();
        store.deactivate();
        assertEquals(last, ConfigFile.read(file()).configuration(), "stopping saves at once");
    }
}
