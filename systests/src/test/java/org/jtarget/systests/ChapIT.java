package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * CHAP (RFC 7143 §12.1.3) on a target built at run time through {@code bin/jtarget exec}: a TPG with
 * {@code authentication=chap}, no demo mode, and one ACL with secrets. libiscsi logs in with the
 * credentials in the URL ({@code iscsi://user%secret@host:port/iqn/lun}). The failed logins stay below the
 * login throttle's free failures, so the order of the tests does not matter, except for the last one, which
 * looks for the secret everywhere the others could have left it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChapIT {
    private static final String IQN = "iqn.2026-11.org.jtarget:chap";
    private static final String INITIATOR = "iqn.2026-11.org.jtarget:systests-chap";
    private static final String USER = "chapuser";
    private static final String SECRET = "jtargetSecret12"; // 15 bytes: within what every initiator accepts (12-16)

    private JtargetInstance jtarget;
    private String portal;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("chap");
        jtarget.start();
        portal = "127.0.0.1:" + JtargetInstance.freePort();
        jtarget.createChapTarget(IQN, "chapdisk", INITIATOR, USER, SECRET, portal);
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @BeforeEach
    void needsIscsiInq() {
        Cmd.assumeInstalled("iscsi-inq", "libiscsi-bin");
    }

    private Cmd.Result inquiry(String initiator, String credentials) {
        return Cmd.run("iscsi-inq", "-i", initiator, "iscsi://" + credentials + portal + "/" + IQN + "/0");
    }

    @Test
    void theRightSecretLogsIn() {
        Cmd.Result r = inquiry(INITIATOR, USER + "%" + SECRET + "@");
        assertTrue(r.ok(), r::describe);
        assertTrue(r.out().contains("Peripheral Device Type:DIRECT_ACCESS"), r::describe);
    }

    @Test
    void aWrongSecretIsRefused() {
        Cmd.Result r = inquiry(INITIATOR, USER + "%" + "wrongSecret1234" + "@");
        assertNotEquals(0, r.exit(), r::describe);
        assertFalse(r.out().contains("DIRECT_ACCESS"), r::describe);
    }

    @Test
    void aWrongUserIsRefused() {
        Cmd.Result r = inquiry(INITIATOR, "someoneelse%" + SECRET + "@");
        assertNotEquals(0, r.exit(), r::describe);
    }

    @Test
    void noCredentialsAreRefused() {
        Cmd.Result r = inquiry(INITIATOR, "");
        assertNotEquals(0, r.exit(), r::describe);
    }

    @Test
    void anInitiatorWithoutAnAclIsRefusedEvenWithTheSecret() {
        Cmd.Result r = inquiry("iqn.2026-11.org.jtarget:not-in-the-acl", USER + "%" + SECRET + "@");
        assertNotEquals(0, r.exit(), r::describe);
    }

    @Test
    void theDefaultTargetStaysOpenWithoutChap() {
        Cmd.Result r = Cmd.run("iscsi-inq", "-i", INITIATOR, jtarget.url(0));
        assertTrue(r.ok(), r::describe);
    }

    @Test
    void aSecretEqualToTheMutualOneIsRefusedWithoutEchoingIt() {
        Cmd.Result r = jtarget.exec("acl:chap " + IQN + " 1 " + INITIATOR + " " + USER + " " + SECRET + " tgt " + SECRET);
        assertNotEquals(0, r.exit(), r::describe);
        assertTrue(r.err().contains("mutual CHAP secret: same as the CHAP secret"), r::describe);
        assertFalse(r.out().contains(SECRET) || r.err().contains(SECRET), r::describe);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void theSecretIsInNoListingLogOrReadableFile() throws IOException {
        inquiry(INITIATOR, USER + "%" + SECRET.toUpperCase() + "@"); // one more failure, whatever ran before
        String help = jtarget.execOk("help acl:chap");
        assertFalse(help.contains(SECRET), help);
        String acls = jtarget.execOk("acl:list " + IQN + " 1");
        assertTrue(acls.contains(INITIATOR), () -> "acl:list printed:\n" + acls);
        assertFalse(acls.contains(SECRET), () -> "acl:list shows the secret:\n" + acls);
        String show = jtarget.execOk("target:show " + IQN);
        assertFalse(show.contains(SECRET), () -> "target:show shows the secret:\n" + show);
        assertFalse(jtarget.execOk("target:show " + DEFAULT_IQN).contains(SECRET));
        String log = Files.readString(jtarget.home().resolve("logs/jtarget.log"), StandardCharsets.ISO_8859_1);
        assertTrue(log.contains("AUTHENTICATION_FAILURE"), "the failed logins are logged (else this proves nothing)");
        assertFalse(log.contains(SECRET), "logs/jtarget.log holds the secret");
        Path console = jtarget.home().resolveSibling("console.log");
        if (Files.exists(console)) {
            assertFalse(Files.readString(console, StandardCharsets.ISO_8859_1).contains(SECRET), "console.log holds it");
        }
        Path conf = jtarget.home().resolve("conf/jtarget.json");
        assertTrue(Files.readString(conf).contains(SECRET), "the secret is saved where it belongs");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)));
    }
}
