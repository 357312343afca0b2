package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObjectRegistryTest {
    static final String T = "iqn.2026-11.org.jtarget:t1";
    static final String T2 = "iqn.2026-11.org.jtarget:t2";
    static final String I1 = "iqn.1994-05.com.redhat:client1";
    static final String I2 = "iqn.1994-05.com.redhat:client2";
    static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 3260);

    @TempDir
    Path home;
    Doubles.Engine engine;
    Doubles.Provider file;
    Doubles.Fabric iscsi;
    ObjectRegistry registry;
    AtomicInteger changes;

    @BeforeEach
    void setUp() {
        engine = new Doubles.Engine();
        file = new Doubles.Provider("file");
        iscsi = new Doubles.Fabric();
        registry = new ObjectRegistry(engine, home);
        changes = new AtomicInteger();
        registry.bindListener(changes::incrementAndGet);
    }

    private void withProviderAndFabric() throws Exception {
        registry.bindProvider(file, file.props());
        registry.bindFabric(iscsi, iscsi.props());
        registry.awaitOpener();
    }

    private Map<String, String> disk() {
        return Map.of("file", "disk.img", "size", "1G");
    }

    /** target T, tpg 1 on 127.0.0.1:3260, LUN 0 -> disk1, ACL for I1. */
    private void standardTree() throws Exception {
        withProviderAndFabric();
        registry.createBackstore("disk1", "file", disk());
        registry.createTarget("iscsi", T);
        registry.createTpg(T, 1);
        registry.addPortal(T, 1, "127.0.0.1:3260");
        registry.addLun(T, 1, 0, "disk1");
        registry.addAcl(T, 1, I1);
    }

    @Test
    void backstoreAttributesReachTheUnitAndSurviveSaveAndRestore() throws Exception {
        standardTree();
        int before = changes.get();
        registry.setBackstoreAttribute("disk1", "read_only", "TRUE");
        registry.setBackstoreAttribute("disk1", "removable", "true");
        assertEquals(new org.jtarget.core.internal.engine.LuAttributes(true, true), engine.unit("disk1").attributes);
        assertEquals(home.resolve("data/pr/disk1.properties"), engine.unit("disk1").reservationsFile, "APTPL file");
        assertEquals(Map.of("read_only", "true", "removable", "true"), registry.backstores().get(0).attributes());
        assertTrue(changes.get() > before, "listeners hear of the change (the config bundle saves)");
        registry.setBackstoreAttribute("disk1", "removable", null);
        assertEquals(new org.jtarget.core.internal.engine.LuAttributes(true, false), engine.unit("disk1").attributes);
        TargetException e = assertThrows(TargetException.class,
                () -> registry.setBackstoreAttribute("disk1", "readonly", "true"));
        assertTrue(e.getMessage().contains("unknown backstore attribute: readonly"), e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setBackstoreAttribute("disk1", "read_only", "yes"));
        assertTrue(e.getMessage().contains("expected: true or false"), e.getMessage());
        assertThrows(TargetException.class, () -> registry.setBackstoreAttribute("nope", "read_only", "true"));
        e = assertThrows(TargetException.class,
                () -> registry.setBackstoreAttribute("disk1", "physical_block_size", "4097"));
        assertTrue(e.getMessage().contains("a power of two from 512"), e.getMessage());
        registry.setBackstoreAttribute("disk1", "physical_block_size", " 4096");
        assertEquals(4096, engine.unit("disk1").attributes.physicalBlockSize());
        registry.setBackstoreAttribute("disk1", "physical_block_size", null);

        Configuration saved = registry.configuration();
        ObjectRegistry other = new ObjectRegistry(new Doubles.Engine(), home);
        Doubles.Engine otherEngine = (Doubles.Engine) other.engine;
        other.bindProvider(file, file.props());
        other.awaitOpener();
        assertEquals(List.of(), other.restore(new Configuration(saved.backstores(), List.of())));
        assertEquals(Map.of("read_only", "true"), other.backstores().get(0).attributes());
        assertEquals(new org.jtarget.core.internal.engine.LuAttributes(true, false), otherEngine.unit("disk1").attributes);
    }

    @Test
    void createsAndDeletesEveryKindOfObject() throws Exception {
        standardTree();
        registry.setTpgAttribute(T, 1, "iscsi.MaxRecvDataSegmentLength", "65536");
        ChapCredentials chap = new ChapCredentials("user1", "secret123456", null, null);
        registry.setChap(T, 1, I1, chap);

        BackstoreInfo b = registry.backstores().get(0);
        assertEquals("disk1", b.name());
        assertEquals(BackstoreInfo.State.ONLINE, b.state());
        assertEquals(512, b.blockSize());
        assertTrue(b.serial().matches("[0-9a-f]{16}"), b.serial());
        assertEquals(Map.of("file", "disk.img", "size", "1G"), b.parameters(), "only the user's parameters are kept");
        assertEquals("512", file.opened.get(0).parameter("block_size", null), "defaults reach the provider");
        assertEquals(home.resolve("data"), file.opened.get(0).dataDirectory());
        assertSame(file.stores.get(0), engine.unit("disk1").backstore, "the LU was attached to the opened store");
        assertEquals(b.serial(), engine.unit("disk1").serial);

        TpgInfo tpg = registry.target(T).tpgs().get(0);
        assertEquals(1, tpg.tag());
        assertEquals(List.of("127.0.0.1:3260"), tpg.portals());
        assertEquals(List.of(new LunInfo(0, "disk1", true)), tpg.luns());
        assertEquals(List.of(new AclInfo(I1, chap)), tpg.acls());
        assertEquals("65536", tpg.attributes().get("iscsi.MaxRecvDataSegmentLength"));

        registry.removeLun(T, 1, 0);
        registry.removeAcl(T, 1, I1);
        registry.removePortal(T, 1, "127.0.0.1:3260");
        registry.setTpgAttribute(T, 1, "iscsi.MaxRecvDataSegmentLength", null);
        assertEquals(new TpgInfo(1, Map.of(), List.of(), List.of(), List.of()), registry.target(T).tpgs().get(0));
        registry.deleteTpg(T, 1);
        registry.deleteTarget(T);
        registry.deleteBackstore("disk1", true);
        assertTrue(file.stores.get(0).closed, "deleting closes the storage");
        assertEquals("disk1", file.destroyed.get(0).name());
        assertEquals(new Configuration(List.of(), List.of()), registry.configuration());
        assertEquals(15, changes.get(), "one notice per change");
    }

    @Test
    void refusalsSayWhy() throws Exception {
        TargetException e = assertThrows(TargetException.class, () -> registry.createBackstore("d", "file", disk()));
        assertEquals("no provider for backstore type: file (present: none)", e.getMessage());
        withProviderAndFabric();
        e = assertThrows(TargetException.class,
                () -> registry.createBackstore("d", "file", Map.of("file", "x", "size", "1G", "sise", "2G")));
        assertEquals("unknown parameter for backstore type file: sise (expected one of: file, size, block_size)",
                e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.createBackstore("d", "file", Map.of("file", "x")));
        assertEquals("missing required parameter for backstore type file: size (capacity)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.createBackstore("a b", "file", disk()));
        assertTrue(e.getMessage().startsWith("backstore name: a b (expected"), e.getMessage());
        file.failWith = "size: 1Q (expected a number with K, M, G or T)";
        e = assertThrows(TargetException.class, () -> registry.createBackstore("d", "file", disk()));
        assertEquals("cannot open backstore d: size: 1Q (expected a number with K, M, G or T)", e.getMessage());
        assertTrue(registry.backstores().isEmpty(), "a refused create leaves nothing behind");
        file.failWith = null;

        registry.createBackstore("d", "file", disk());
        e = assertThrows(TargetException.class, () -> registry.createBackstore("d", "file", disk()));
        assertEquals("backstore already exists: d", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.createTarget("iscsi", "eui.0123456789abcdef"));
        assertEquals("target name: eui.0123456789abcdef: iSCSI names start with iqn. here", e.getMessage(),
                "the fabric validates names when present");
        registry.createTarget("iscsi", T);
        assertThrows(TargetException.class, () -> registry.createTarget("iscsi", T), "target already exists: " + T);
        e = assertThrows(TargetException.class, () -> registry.createTpg(T, 0));
        assertEquals("TPG tag: 0 (expected 1..65535)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.addPortal(T, 1, "127.0.0.1:3260"));
        assertEquals("no such TPG: " + T + " tpg 1", e.getMessage());
        registry.createTpg(T, 1);
        e = assertThrows(TargetException.class, () -> registry.addPortal(T, 1, "localhost:3260"));
        assertTrue(e.getMessage().startsWith("portal host: localhost (expected an IPv4 address"), e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.addLun(T, 1, 16384, "d"));
        assertEquals("LUN: 16384 (expected 0..16383)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.addLun(T, 1, 0, "nope"));
        assertEquals("no such backstore: nope", e.getMessage());
        registry.addLun(T, 1, 0, "d");
        e = assertThrows(TargetException.class, () -> registry.addLun(T, 1, 0, "d"));
        assertEquals("LUN already mapped: " + T + " tpg 1 lun 0 -> d", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.deleteBackstore("d", false));
        assertEquals("backstore d is in use by " + T + " tpg 1 lun 0 (remove those LUNs first)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setTpgAttribute(T, 1, "demo_mode", "1"));
        assertTrue(e.getMessage().startsWith("unknown TPG attribute: demo_mode (expected generate_node_acls"));
        e = assertThrows(TargetException.class,
                () -> registry.setTpgAttribute(T, 1, TargetService.ATTR_AUTHENTICATION, "kerberos"));
        assertEquals("authentication: kerberos (expected none or chap)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setTpgAttribute(T, 1, "login_timeout", "0"));
        assertEquals("login_timeout: 0 (expected: seconds, an integer from 1 to 3600)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setTpgAttribute(T, 1, "cmdsn_window", "4097"));
        assertEquals("cmdsn_window: 4097 (expected: commands, an integer from 1 to 4096)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setChap(T, 1, I1, new ChapCredentials("u", "secret123456", null, null)));
        assertEquals("no such ACL: " + T + " tpg 1 acl " + I1, e.getMessage());
        registry.addAcl(T, 1, I1);
        e = assertThrows(TargetException.class,
                () -> registry.setChap(T, 1, I1, new ChapCredentials("u", "same-secret-1", "t", "same-secret-1")));
        assertEquals("mutual CHAP secret: same as the CHAP secret (expected a different one, RFC 7143 §9.2.1)",
                e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.setChap(T, 1, I1, new ChapCredentials("u", "s", null, null)));
        assertEquals("CHAP secret: 1 bytes (expected 12 to 255)", e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.deleteTarget("iqn.2026-11.org.jtarget:none"));
        assertEquals("no such target: iqn.2026-11.org.jtarget:none", e.getMessage());
    }

    @Test
    void targetNamesWithoutFabricGetTheBasicCheck() {
        registry.createTarget("iscsi", "eui.0123456789abcdef");
        registry.createTarget("iscsi", "naa.6001405abcdef0123456789abcdef012");
        TargetException e = assertThrows(TargetException.class, () -> registry.createTarget("iscsi", "target1"));
        assertTrue(e.getMessage().contains("expected iqn.yyyy-mm.reversed.domain"), e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.createTarget("iSCSI!", T));
        assertTrue(e.getMessage().startsWith("fabric name: iSCSI!"), e.getMessage());
    }

    @Test
    void namesOfAnotherAbsentFabricGetTheGenericCheck() {
        registry.createTarget("nbd", "vm1"); // e.g. restored before the nbd fabric bundle started
        TargetException e = assertThrows(TargetException.class, () -> registry.createTarget("nbd", "vm 1"));
        assertTrue(e.getMessage().contains("white space"), e.getMessage());
        e = assertThrows(TargetException.class, () -> registry.createTarget("nbd", "x".repeat(4097)));
        assertTrue(e.getMessage().contains("expected <= 4096 bytes"), e.getMessage());
    }

    @Test
    void portalsAreStartedOncePerAddressAndStoppedWithTheLastUser() throws Exception {
        withProviderAndFabric();
        registry.createTarget("iscsi", T);
        registry.createTarget("iscsi", T2);
        registry.createTpg(T, 1);
        registry.createTpg(T, 2);
        registry.createTpg(T2, 1);
        registry.addPortal(T, 1, "127.0.0.1:3260");
        registry.addPortal(T, 2, "127.0.0.1:3260");
        registry.addPortal(T2, 1, "127.0.0.1:3260");
        registry.addPortal(T2, 1, "127.0.0.1:3261");
        assertEquals(List.of(LOCAL, new InetSocketAddress("127.0.0.1", 3261)), iscsi.started);

        registry.removePortal(T, 1, "127.0.0.1:3260");
        registry.deleteTpg(T, 2);
        assertTrue(iscsi.stopped.isEmpty(), "T2 tpg 1 still uses 127.0.0.1:3260");
        registry.deleteTarget(T2);
        assertEquals(List.of(LOCAL, new InetSocketAddress("127.0.0.1", 3261)), iscsi.stopped);
        assertFalse(registry.listening("iscsi", LOCAL));
    }

    @Test
    void aFabricThatArrivesStartsItsPortalsAndOneThatLeavesIsForgotten() throws Exception {
        registry.createTarget("iscsi", T);
        registry.createTpg(T, 1);
        registry.addPortal(T, 1, "127.0.0.1:3260");
        registry.addPortal(T, 1, "[::1]:3260");
        assertTrue(iscsi.started.isEmpty());

        registry.bindFabric(iscsi, iscsi.props());
        assertEquals(List.of(LOCAL, new InetSocketAddress("::1", 3260)), iscsi.started);
        assertEquals(List.of("127.0.0.1:3260", "[0:0:0:0:0:0:0:1]:3260"), registry.target(T).tpgs().get(0).portals());

        registry.unbindFabric(iscsi, iscsi.props());
        assertFalse(registry.listening("iscsi", LOCAL));
        assertTrue(iscsi.stopped.isEmpty(), "a leaving fabric closes its own listeners");
        Doubles.Fabric again = new Doubles.Fabric();
        registry.bindFabric(again, again.props());
        assertEquals(2, again.started.size(), "the returning fabric listens again");
        assertTrue(registry.listening("iscsi", LOCAL));
    }

    @Test
    void aPortalThatCannotBindIsRefusedByTheShellAndReportedByRestore() throws Exception {
        withProviderAndFabric();
        iscsi.refuse.add(LOCAL);
        registry.createTarget("iscsi", T);
        registry.createTpg(T, 1);
        TargetException e = assertThrows(TargetException.class, () -> registry.addPortal(T, 1, "127.0.0.1:3260"));
        assertEquals("cannot listen on 127.0.0.1:3260: Address already in use", e.getMessage());
        assertTrue(registry.target(T).tpgs().get(0).portals().isEmpty());

        Configuration saved = new Configuration(List.of(), List.of(new TargetInfo(T2, "iscsi",
                List.of(new TpgInfo(1, Map.of(), List.of("127.0.0.1:3260"), List.of(), List.of())))));
        List<String> problems = registry.restore(saved);
        assertEquals(List.of("target " + T2 + " tpg 1: cannot listen on 127.0.0.1:3260: Address already in use"
                + " (portal kept; retried when the fabric returns)"), problems);
        assertEquals(List.of("127.0.0.1:3260"), registry.target(T2).tpgs().get(0).portals());
    }

    @Test
    void aProviderThatLeavesTakesItsLunsOfflineAndOneThatReturnsBringsThemBack() throws Exception {
        standardTree();
        TpgEndpoint ep = registry.lookup("iscsi", T, LOCAL).orElseThrow();
        Doubles.Session fs = new Doubles.Session(I1);
        registry.openSession(ep, fs);
        Doubles.Store first = file.stores.get(0);
        Doubles.Unit unit = engine.unit("disk1");

        registry.unbindProvider(file, file.props());
        BackstoreInfo b = registry.backstores().get(0);
        assertEquals(BackstoreInfo.State.OFFLINE, b.state());
        assertEquals("no provider for type file", b.detail());
        assertFalse(unit.online(), "the LU answers NOT READY");
        assertTrue(first.closed, "the storage was closed once drained");
        assertFalse(registry.target(T).tpgs().get(0).luns().get(0).online());
        assertEquals(List.of(), registry.backstoreTypes());

        registry.bindProvider(file, file.props());
        registry.awaitOpener();
        assertEquals(BackstoreInfo.State.ONLINE, registry.backstores().get(0).state());
        assertSame(file.stores.get(1), unit.backstore, "the same LU got the reopened storage");
        assertEquals(b.serial(), registry.backstores().get(0).serial());
        assertTrue(registry.target(T).tpgs().get(0).luns().get(0).online());
        assertFalse(fs.closed, "the session stayed logged in throughout");
        assertFalse(engine.nexuses.get(0).closed);
    }

    @Test
    void restoreKeepsObjectsOfAnAbsentTypeOfflineUntilTheProviderArrives() throws Exception {
        BackstoreInfo saved = new BackstoreInfo("default", "file", Map.of("file", "default.img", "size", "1G"),
                BackstoreInfo.State.ONLINE, "", 0, 0, "0123456789abcdef");
        assertEquals(List.of(), registry.restore(new Configuration(List.of(saved), List.of())));
        BackstoreInfo b = registry.backstores().get(0);
        assertEquals(BackstoreInfo.State.OFFLINE, b.state());
        assertEquals("no provider for type file", b.detail());
        assertEquals("0123456789abcdef", b.serial(), "the saved serial is kept");

        registry.bindProvider(file, file.props());
        registry.awaitOpener();
        assertEquals(BackstoreInfo.State.ONLINE, registry.backstores().get(0).state());
        assertEquals("0123456789abcdef", engine.unit("default").serial);
    }

    @Test
    void anObjectThatFailsToOpenIsKeptFailedAndReported() throws Exception {
        withProviderAndFabric();
        file.failWith = "cannot create /nope/x.img: permission denied";
        BackstoreInfo saved = new BackstoreInfo("x", "file", Map.of("file", "/nope/x.img", "size", "1G"),
                BackstoreInfo.State.ONLINE, "", 0, 0, "00000000000000aa");
        List<String> problems = registry.restore(new Configuration(List.of(saved), List.of()));
        assertEquals(List.of("backstore x: kept FAILED (retried): cannot create /nope/x.img: permission denied"), problems);
        assertEquals(BackstoreInfo.State.FAILED, registry.backstores().get(0).state());
        assertEquals(saved.parameters(), registry.configuration().backstores().get(0).parameters(),
                "a failed object is still saved");
    }

    @Test
    void removingAnAclClosesThatInitiatorsSessionsOnly() throws Exception {
        standardTree();
        registry.addAcl(T, 1, I2);
        Doubles.Session s1 = new Doubles.Session(I1);
        Doubles.Session s2 = new Doubles.Session(I2);
        registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(), s1);
        registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(), s2);

        registry.removeAcl(T, 1, I1);
        assertTrue(s1.closed);
        assertTrue(engine.nexuses.get(0).closed);
        assertFalse(s2.closed);
        FabricException e = assertThrows(FabricException.class,
                () -> registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(), new Doubles.Session(I1)));
        assertEquals("initiator " + I1 + " is not allowed on " + T + " tpg 1", e.getMessage());

        registry.deleteTarget(T);
        assertTrue(s2.closed, "deleting the target logs everyone out");
    }

    @Test
    void turningDemoModeOffLogsOutInitiatorsWithoutAcl() throws Exception {
        standardTree();
        registry.setTpgAttribute(T, 1, TargetService.ATTR_GENERATE_NODE_ACLS, "true");
        Doubles.Session guest = new Doubles.Session(I2);
        Doubles.Session member = new Doubles.Session(I1);
        registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(), guest);
        registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(), member);
        registry.setTpgAttribute(T, 1, TargetService.ATTR_GENERATE_NODE_ACLS, "false");
        assertTrue(guest.closed);
        assertFalse(member.closed);
    }

    @Test
    void sessionsSeeLunChangesLive() throws Exception {
        standardTree();
        registry.createBackstore("disk2", "file", Map.of("file", "d2.img", "size", "1M"));
        ScsiSession session = registry.openSession(registry.lookup("iscsi", T, LOCAL).orElseThrow(),
                new Doubles.Session(I1));
        Doubles.FakeNexus nexus = engine.nexuses.get(0);
        assertEquals(T, nexus.info.targetName());
        assertEquals(1, nexus.info.relativeTargetPortId());
        assertEquals(T + ",t,0x0001", nexus.info.targetPortName());
        assertEquals(5, nexus.info.protocolIdentifier());
        assertEquals(I1 + ",i,0x23d000000001", nexus.info.initiatorPortName());
        assertSame(engine.unit("disk1"), nexus.luns.get(0));
        assertNull(nexus.luns.get(7));

        registry.addLun(T, 1, 7, "disk2");
        assertEquals(1, nexus.lunsChanged);
        assertSame(engine.unit("disk2"), nexus.luns.get(7));
        assertEquals("[0, 7]", java.util.Arrays.toString(nexus.luns.luns()));
        registry.removeLun(T, 1, 0);
        assertEquals(2, nexus.lunsChanged);
        assertNull(nexus.luns.get(0));

        session.close();
        assertTrue(nexus.closed);
        registry.addLun(T, 1, 0, "disk1");
        assertEquals(2, nexus.lunsChanged, "a closed session is no longer told");
    }

    @Test
    void discoveryAndLookupFollowPortalsAndAccess() throws Exception {
        standardTree();
        registry.createTarget("iscsi", T2);
        registry.createTpg(T2, 3);
        registry.addPortal(T2, 3, "0.0.0.0:3260");
        registry.setTpgAttribute(T2, 3, TargetService.ATTR_GENERATE_NODE_ACLS, "true");

        assertEquals(List.of(T, T2), registry.discover("iscsi", LOCAL, I1).stream().map(TpgEndpoint::targetName).toList());
        assertEquals(List.of(T2), registry.discover("iscsi", LOCAL, I2).stream().map(TpgEndpoint::targetName).toList(),
                "I2 has no ACL on T");
        assertEquals(List.of(T2), registry.discover("iscsi", new InetSocketAddress("127.0.0.2", 3260), I1).stream()
                .map(TpgEndpoint::targetName).toList(), "the wildcard portal matches any local address");
        assertTrue(registry.discover("iscsi", new InetSocketAddress("127.0.0.1", 3262), I1).isEmpty());
        assertTrue(registry.discover("loopback", LOCAL, I1).isEmpty());

        assertTrue(registry.lookup("iscsi", T, new InetSocketAddress("127.0.0.2", 3260)).isEmpty());
        TpgEndpoint ep = registry.lookup("iscsi", T2, LOCAL).orElseThrow();
        assertEquals(3, ep.tag());
        assertEquals(List.of(new InetSocketAddress("0.0.0.0", 3260)), ep.portals());
        assertEquals(InitiatorAccess.OPEN, ep.access(I2).orElseThrow());
        assertTrue(registry.lookup("iscsi", T, LOCAL).orElseThrow().access(I2).isEmpty());

        registry.setTpgAttribute(T2, 3, "iscsi.MaxRecvDataSegmentLength", "262144");
        registry.setTpgAttribute(T2, 3, "max_data_in_bytes", "4M");
        assertEquals(Map.of("MaxRecvDataSegmentLength", "262144", "max_data_in_bytes", "4194304"),
                registry.lookup("iscsi", T2, LOCAL).orElseThrow().parameters(),
                "fabric keys without their prefix, limits by name and normalised");
        assertEquals(List.of(T, T2), registry.endpoints("iscsi", LOCAL).stream().map(TpgEndpoint::targetName).toList(),
                "every TPG on the portal, whatever the initiator's access");

        registry.deleteTpg(T2, 3);
        FabricException e = assertThrows(FabricException.class, () -> registry.openSession(ep, new Doubles.Session(I1)));
        assertEquals(T2 + " tpg 3 no longer exists", e.getMessage());
    }

    @Test
    void chapNeedsSecretsOnTheAcl() throws Exception {
        standardTree();
        registry.setTpgAttribute(T, 1, TargetService.ATTR_AUTHENTICATION, "chap");
        registry.setTpgAttribute(T, 1, TargetService.ATTR_GENERATE_NODE_ACLS, "true");
        TpgEndpoint ep = registry.lookup("iscsi", T, LOCAL).orElseThrow();
        assertTrue(ep.access(I1).isEmpty(), "CHAP required but no secrets set: no access");
        assertTrue(ep.access(I2).isEmpty(), "demo mode has no secrets to check either");

        ChapCredentials chap = new ChapCredentials("client1", "0123456789ab", "target1", "ba9876543210");
        registry.setChap(T, 1, I1, chap);
        InitiatorAccess access = ep.access(I1).orElseThrow();
        assertTrue(access.chapRequired());
        assertEquals(chap, access.chap().orElseThrow());
        assertEquals(List.of(T), registry.discover("iscsi", LOCAL, I1).stream().map(TpgEndpoint::targetName).toList());

        registry.setTpgAttribute(T, 1, TargetService.ATTR_AUTHENTICATION, "none");
        assertEquals(InitiatorAccess.OPEN, ep.access(I1).orElseThrow());
    }

    @Test
    void configurationRestoresIntoAnEqualTree() throws Exception {
        standardTree();
        registry.setTpgAttribute(T, 1, TargetService.ATTR_AUTHENTICATION, "chap");
        registry.setChap(T, 1, I1, new ChapCredentials("u", "0123456789ab", null, null));
        registry.createTpg(T, 2);
        registry.addPortal(T, 2, "[::1]:3260");
        registry.addLun(T, 2, 5, "disk1");
        Configuration saved = registry.configuration();

        ObjectRegistry other = new ObjectRegistry(new Doubles.Engine(), home);
        other.bindProvider(file, file.props());
        other.awaitOpener();
        assertEquals(List.of(), other.restore(saved));
        assertEquals(saved, other.configuration());
    }

    @Test
    void restoreReportsWhatItSkips() {
        TpgInfo tpg = new TpgInfo(1, Map.of("bogus", "1"), List.of("nowhere", "127.0.0.1:3260"),
                List.of(new LunInfo(0, "missing", false)), List.of(new AclInfo("not a name", null)));
        Configuration c = new Configuration(List.of(), List.of(new TargetInfo(T, "iscsi", List.of(tpg)),
                new TargetInfo("bad", "iscsi", List.of())));
        List<String> problems = registry.restore(c);
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("target " + T + " tpg 1: unknown TPG attribute: bogus"), problems.get(0));
        assertTrue(problems.get(1).contains("portal: nowhere"), problems.get(1));
        assertEquals("target " + T + " tpg 1 lun 0: no such backstore: missing (skipped)", problems.get(2));
        assertTrue(problems.get(3).contains("initiator name: not a name"), problems.get(3));
        assertTrue(problems.get(4).startsWith("target bad: target name: bad"), problems.get(4));
        assertEquals(List.of("127.0.0.1:3260"), registry.target(T).tpgs().get(0).portals());
        assertNotNull(registry.target(T));
    }
}
