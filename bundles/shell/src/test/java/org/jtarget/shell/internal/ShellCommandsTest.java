package org.jtarget.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The verbs as a user types them, through the real Gogo parser and argument coercion. */
class ShellCommandsTest {
    static final String IQN = "iqn.2026-11.org.jtarget:disk1";
    static final String INITIATOR = "iqn.1993-08.org.debian:01:host1";

    FakeTargetService service;
    GogoShell shell;

    @BeforeEach
    void start() {
        service = new FakeTargetService();
        shell = new GogoShell(service);
    }

    @AfterEach
    void stop() {
        shell.close();
    }

    /** Runs a line that must succeed and returns its output. */
    String ok(String line) {
        GogoShell.Result r = shell.run(line);
        assertNull(r.failure(), () -> line + " failed: " + r.failure());
        return r.out();
    }

    /** Runs a line that must fail with a CommandFailure and returns the one line Gogo prints. */
    String refused(String line) {
        GogoShell.Result r = shell.run(line);
        assertNotNull(r.failure(), () -> line + " succeeded: " + r.out());
        assertInstanceOf(CommandFailure.class, r.failure(), () -> line + ": " + r.failure());
        String shown = r.failure().toString();
        assertFalse(shown.contains("\n"), shown);
        assertEquals(r.failure().getMessage(), shown, "console shows the message alone");
        return shown;
    }

    void buildTree() {
        ok("backstore:create disk1 file file=disk1.img size=10G");
        ok("backstore:create scratch memory size=512M");
        ok("target:create " + IQN);
        ok("tpg:create " + IQN + " 1");
        ok("portal:add " + IQN + " 1 127.0.0.1:3260");
        ok("lun:add " + IQN + " 1 0 disk1");
        ok("lun:add " + IQN + " 1 1 scratch");
        ok("acl:add " + IQN + " 1 " + INITIATOR);
    }

    @Test
    void mutatorsConfirmWhatTheyDid() {
        assertEquals("Created backstore disk1 (type file, 10G, online)\n",
                ok("backstore:create disk1 file file=disk1.img size=10G"));
        assertEquals(Map.of("file", "disk1.img", "size", "10G"), service.backstores().get(0).parameters());
        assertEquals("Created target " + IQN + " (fabric iscsi)\n", ok("target:create " + IQN));
        assertEquals("Created TPG 1 of " + IQN + "\n", ok("tpg:create " + IQN + " 1"));
        assertEquals("Added portal 127.0.0.1:3260 to TPG 1 of " + IQN + "\n",
                ok("portal:add " + IQN + " 1 127.0.0.1:3260"));
        assertEquals("Added LUN 0 -> disk1 to TPG 1 of " + IQN + "\n", ok("lun:add " + IQN + " 1 0 disk1"));
        assertEquals("TPG 1 of " + IQN + ": generate_node_acls = true\n",
                ok("tpg:set " + IQN + " 1 generate_node_acls yes"));
        assertEquals("true", service.target(IQN).tpgs().get(0).attributes().get("generate_node_acls"));
        assertEquals("TPG 1 of " + IQN + ": max_unsolicited_bytes = 8388608\n",
                ok("tpg:set " + IQN + " 1 max_unsolicited_bytes 8m"));
        ok("tpg:unset " + IQN + " 1 max_unsolicited_bytes");
        assertEquals("TPG 1 of " + IQN + ": generate_node_acls back to its default\n",
                ok("tpg:unset " + IQN + " 1 generate_node_acls"));
        assertTrue(service.target(IQN).tpgs().get(0).attributes().isEmpty());
        assertEquals("Removed LUN 0 from TPG 1 of " + IQN + "\n", ok("lun:remove " + IQN + " 1 0"));
        assertEquals("Removed portal 127.0.0.1:3260 from TPG 1 of " + IQN + "\n",
                ok("portal:remove " + IQN + " 1 127.0.0.1:3260"));
        assertEquals("Deleted TPG 1 of " + IQN + "\n", ok("tpg:delete " + IQN + " 1"));
        assertEquals("Deleted target " + IQN + "\n", ok("target:delete " + IQN));
        assertEquals("Deleted backstore disk1 (data kept)\n", ok("backstore:delete disk1"));
        assertTrue(service.backstores().isEmpty());
    }

    @Test
    void flags() {
        assertEquals("Created target iqn.2026-11.org.jtarget:l (fabric loopback)\n",
                ok("target:create --fabric loopback iqn.2026-11.org.jtarget:l"));
        assertEquals("loopback", service.target("iqn.2026-11.org.jtarget:l").fabric());
        ok("backstore:create m memory size=1M");
        assertEquals("Deleted backstore m and its data\n", ok("backstore:delete --destroy m"));
        ok("backstore:create m memory size=1M");
        assertEquals("Deleted backstore m and its data\n", ok("backstore:delete -d m"));
    }

    @Test
    void listsAreAlignedTables() {
        buildTree();
        ok("target:create iqn.2026-11.org.jtarget:a");
        assertEquals(""
                + "TARGET                         FABRIC  TPGS  PORTALS  LUNS  ACLS\n"
                + "iqn.2026-11.org.jtarget:a      iscsi      0        0     0     0\n"
                + "iqn.2026-11.org.jtarget:disk1  iscsi      1        1     2     1\n", ok("target:list"));
        assertEquals(""
                + "NAME     TYPE    STATE   SIZE  BLOCK  SERIAL          PARAMETERS               ATTRIBUTES  DETAIL\n"
                + "disk1    file    online   10G    512  serial-disk1    file=disk1.img,size=10G  -           -\n"
                + "scratch  memory  online  512M    512  serial-scratch  size=512M                -           -\n",
                ok("backstore:list"));
        assertEquals(""
                + "TARGET                         TPG  LUN  BACKSTORE  STATE\n"
                + "iqn.2026-11.org.jtarget:disk1    1    0  disk1      online\n"
                + "iqn.2026-11.org.jtarget:disk1    1    1  scratch    online\n", ok("lun:list"));
        assertEquals(ok("lun:list"), ok("lun:list " + IQN));
        assertEquals("TARGET  TPG  LUN  BACKSTORE  STATE\n", ok("lun:list iqn.2026-11.org.jtarget:a"));
        assertEquals(""
                + "TARGET                         TPG  PORTAL\n"
                + "iqn.2026-11.org.jtarget:disk1    1  127.0.0.1:3260\n", ok("portal:list"));
        assertEquals(""
                + "INITIATOR                        AUTH\n"
                + "iqn.1993-08.org.debian:01:host1  no chap\n", ok("acl:list " + IQN + " 1"));
    }

    @Test
    void backstoreAttributesAreSetShownAndUnset() {
        buildTree();
        assertEquals("Backstore disk1: read_only = true\n", ok("backstore:set disk1 read_only true"));
        ok("backstore:set disk1 removable true");
        String list = ok("backstore:list");
        assertTrue(list.contains("file=disk1.img,size=10G  read_only=true,removable=true"), list);
        String show = ok("target:show " + IQN);
        assertTrue(show.contains("lun 0 -> disk1  [read_only, removable]\n"), show);
        assertTrue(show.contains("lun 1 -> scratch\n"), show);
        assertEquals("Backstore disk1: removable reset to its default\n", ok("backstore:unset disk1 removable"));
        assertTrue(ok("target:show " + IQN).contains("lun 0 -> disk1  [read_only]\n"));
        assertEquals("unknown backstore attribute: readonly (expected one of: read_only, removable)",
                refused("backstore:set disk1 readonly true"));
    }

    @Test
    void offlineBackstoreShowsWhy() {
        service.addOffline("s3disk", "s3", Map.of("bucket", "vols", "secret_key", "AKIAsupersecret"));
        String list = ok("backstore:list");
        assertTrue(list.contains("s3disk  s3    offline     -      -  serial-s3disk  bucket=vols,secret_key=***"
                + "  -           no provider for type s3\n"), list);
        assertFalse(list.contains("AKIAsupersecret"), list);
    }

    @Test
    void showPrintsTheTree() {
        buildTree();
        ok("tpg:set " + IQN + " 1 authentication CHAP");
        ok("acl:add " + IQN + " 1 iqn.1994-05.com.redhat:h2");
        ok("acl:chap " + IQN + " 1 " + INITIATOR + " alice alice-secret-1 target target-secret-1");
        ok("tpg:create " + IQN + " 2");
        assertEquals(""
                + "iqn.2026-11.org.jtarget:disk1  [fabric iscsi]\n"
                + "|- tpg 1\n"
                + "|  |- attributes\n"
                + "|  |  `- authentication = chap\n"
                + "|  |- portals\n"
                + "|  |  `- 127.0.0.1:3260\n"
                + "|  |- luns\n"
                + "|  |  |- lun 0 -> disk1\n"
                + "|  |  `- lun 1 -> scratch\n"
                + "|  `- acls\n"
                + "|     |- iqn.1993-08.org.debian:01:host1  [mutual chap, user alice, target user target]\n"
                + "|     `- iqn.1994-05.com.redhat:h2  [no chap]\n"
                + "`- tpg 2\n"
                + "   |- attributes\n"
                + "   |  `- (defaults)\n"
                + "   |- portals\n"
                + "   |  `- (none)\n"
                + "   |- luns\n"
                + "   |  `- (none)\n"
                + "   `- acls\n"
                + "      `- (none)\n", ok("target:show " + IQN));
        ok("target:create iqn.2026-11.org.jtarget:empty");
        assertEquals("iqn.2026-11.org.jtarget:empty  [fabric iscsi]\n"
                + "`- (no TPG: add one with tpg:create iqn.2026-11.org.jtarget:empty 1)\n",
                ok("target:show iqn.2026-11.org.jtarget:empty"));
    }

    @Test
    void typesShowParametersAndDefaults() {
        assertEquals(""
                + "file\n"
                + "  PARAMETER  REQUIRED  DEFAULT  DESCRIPTION\n"
                + "  file       yes       -        path of the backing file, relative to data/\n"
                + "  size       no        1G       capacity, with suffix K, M, G or T\n"
                + "\n"
                + "memory\n"
                + "  PARAMETER  REQUIRED  DEFAULT  DESCRIPTION\n"
                + "  size       yes       -        capacity, with suffix K, M, G or T\n", ok("backstore:types"));
    }

    @Test
    void chapSecretsAreNeverPrinted() {
        buildTree();
        String set = ok("acl:chap " + IQN + " 1 " + INITIATOR + " alice alice-secret-1");
        assertEquals("Set one-way CHAP for " + INITIATOR + " on TPG 1 of " + IQN + " (user alice)\n", set);
        assertEquals("alice-secret-1", service.lastChap.secret());
        assertFalse(service.lastChap.mutual());
        String mutual = ok("acl:chap " + IQN + " 1 " + INITIATOR + " alice alice-secret-1 tgt tgt-secret-123");
        assertEquals("tgt-secret-123", service.lastChap.mutualSecret());
        String all = set + mutual + ok("acl:list " + IQN + " 1") + ok("target:show " + IQN) + ok("target:list");
        assertFalse(all.contains("alice-secret-1"), all);
        assertFalse(all.contains("tgt-secret-123"), all);
        assertTrue(all.contains("mutual chap, user alice, target user tgt"), all);
        assertEquals("Cleared CHAP of " + INITIATOR + " on TPG 1 of " + IQN + "\n",
                ok("acl:nochap " + IQN + " 1 " + INITIATOR));
        assertNull(service.target(IQN).tpgs().get(0).acls().get(0).chap());
    }

    /** Gogo reads the bare word null as Java's null: a backstore type named null (a plugin) must still work. */
    @Test
    void aTypeNamedNullIsTheTypeNotJavasNull() {
        service.types.put("null", FakeTargetService.TYPES.get("memory"));
        assertEquals("Created backstore n (type null, 1M, online)", ok("backstore:create n null size=1M").trim());
        assertEquals("null", service.backstores().stream().filter(b -> b.name().equals("n")).findFirst().orElseThrow().type());
    }

    @Test
    void badArgumentsSayWhy() {
        buildTree();
        assertEquals("TPG tag: abc (expected a number 1..65535)", refused("tpg:create " + IQN + " abc"));
        assertEquals("TPG tag: 0 (expected 1..65535)", refused("tpg:create " + IQN + " 0"));
        assertEquals("TPG tag: 70000 (expected 1..65535)", refused("portal:add " + IQN + " 70000 127.0.0.1:3260"));
        assertEquals("LUN: 16384 (expected 0..16383)", refused("lun:add " + IQN + " 1 16384 disk1"));
        assertEquals("LUN: x (expected a number 0..16383)", refused("lun:remove " + IQN + " 1 x"));
        assertEquals("backstore type: floppy (expected one of: file, memory)", refused("backstore:create f floppy"));
        assertEquals("parameter: size (expected key=value, e.g. size=10G)",
                refused("backstore:create m memory size"));
        assertEquals("parameter size: given twice (expected each key once)",
                refused("backstore:create m memory size=1G size=2G"));
        assertEquals("parameter path: not a parameter of type file (expected one of: file, size)",
                refused("backstore:create f file path=x.img"));
        assertEquals("parameter file: missing (required by type file: path of the backing file, relative to data/)",
                refused("backstore:create f file size=1G"));
        assertEquals("generate_node_acls: maybe (expected true or false)",
                refused("tpg:set " + IQN + " 1 generate_node_acls maybe"));
        assertEquals("authentication: kerberos (expected none or chap)",
                refused("tpg:set " + IQN + " 1 authentication kerberos"));
        assertEquals("max_sessions: 0 (expected: sessions per target, an integer from 1 to 65535)",
                refused("tpg:set " + IQN + " 1 max_sessions 0"));
        assertEquals("max_data_in_bytes: lots (expected: bytes, an integer from 65536 to 1073741824, K/M/G suffix"
                + " allowed)", refused("tpg:set " + IQN + " 1 max_data_in_bytes lots"));
        assertEquals("CHAP secret: 5 bytes (expected 12 to 255)",
                refused("acl:chap " + IQN + " 1 " + INITIATOR + " alice short"));
        assertEquals("CHAP secret: 256 bytes (expected 12 to 255)",
                refused("acl:chap " + IQN + " 1 " + INITIATOR + " alice " + "x".repeat(256)));
        assertEquals("mutual CHAP secret: same as the CHAP secret (expected a different one, RFC 7143 §9.2.1)",
                refused("acl:chap " + IQN + " 1 " + INITIATOR + " alice alice-secret-1 tgt alice-secret-1"));
        assertEquals("no such TPG: 9 of " + IQN, refused("acl:list " + IQN + " 9"));
        assertTrue(service.backstores().stream().noneMatch(b -> b.name().equals("m") || b.name().equals("f")));
    }

    @Test
    void serviceRefusalsKeepTheirMessage() {
        buildTree();
        assertEquals("no such target: iqn.2026-11.org.jtarget:nope", refused("target:show iqn.2026-11.org.jtarget:nope"));
        assertEquals("target exists: " + IQN, refused("target:create " + IQN));
        assertEquals("backstore disk1 is in use by LUN 0 of TPG 1 of " + IQN, refused("backstore:delete disk1"));
        assertEquals("portal: localhost (expected host:port or [ipv6]:port)",
                refused("portal:add " + IQN + " 1 localhost"));
        assertEquals("no such backstore: nope", refused("lun:add " + IQN + " 1 5 nope"));
    }

    @Test
    void wrongArgumentCountFailsTheLine() {
        GogoShell.Result r = shell.run("target:show");
        assertInstanceOf(IllegalArgumentException.class, r.failure());
        assertTrue(r.failure().getMessage().startsWith("Cannot coerce"), r.failure().getMessage());
        assertNotNull(shell.run("tpg:create " + IQN).failure());
        Throwable chap = shell.run("acl:chap " + IQN + " 1 " + INITIATOR + " alice alice-secret-1 tgt").failure();
        assertNotNull(chap);
        assertFalse(String.valueOf(chap.getMessage()).contains("alice-secret-1"), chap.getMessage());
    }

    @Test
    void aFailureStopsTheRestOfTheLine() {
        GogoShell.Result r = shell.run("target:create " + IQN + "; tpg:create " + IQN + " zero; tpg:create " + IQN + " 1");
        assertEquals("Created target " + IQN + " (fabric iscsi)\n", r.out());
        assertEquals("TPG tag: zero (expected a number 1..65535)", r.failure().toString());
        assertTrue(service.target(IQN).tpgs().isEmpty());
    }

    @Test
    void aluaVerbsCreateSetMapAndList() {
        buildTree();
        ok("tpg:create " + IQN + " 2");
        ok("lun:add " + IQN + " 2 0 disk1");
        assertEquals("Created ALUA group west (id 2) of disk1\n", ok("alua:create disk1 west 2"));
        assertEquals("TPG 2 of " + IQN + " reaches LUN 0 through ALUA group west\n",
                ok("alua:map " + IQN + " 2 0 west"));
        assertEquals("Set state of ALUA group west of disk1 to standby\n", ok("alua:set disk1 west state standby"));
        ok("alua:set disk1 west preferred yes");
        assertEquals("disk1 west preferred true", service.lastAluaSet, "yes is passed on as true");
        String list = ok("alua:list disk1");
        assertTrue(list.lines().anyMatch(l -> l.matches("default_tg_pt_gp +1 +active_optimized .* " + IQN + "/1/0")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("west +2 +standby .* " + IQN + "/2/0")), list);
        assertEquals("ID: 0 (expected 1..65535)", refused("alua:create disk1 east 0"));
        assertEquals("preferred: maybe (expected true or false)", refused("alua:set disk1 west preferred maybe"));
        assertTrue(list.lines().anyMatch(l -> l.matches("GROUP +ID +STATE +PREFERRED +MODE +STATUS +TRANSITION +PORTS")),
                list);
        assertEquals("no such backstore: nope", refused("alua:list nope"));
        assertEquals("no such ALUA group: east", refused("alua:map " + IQN + " 2 0 east"));
    }
}
