package org.jtarget.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.jtarget.api.AclInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

/** The shell verbs, run through Gogo as a user types them, against the live object tree. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellIT {
    private static final String INITIATOR = "iqn.1994-05.com.example:itest-client";

    @Inject
    private BundleContext context;
    private TargetService service;
    private Shell shell;

    @Configuration
    public Option[] configuration() {
        return JtargetOptions.container("ShellIT");
    }

    @Before
    public void shellReady() {
        service = Osgi.await(context, TargetService.class, null);
        shell = new Shell(Osgi.await(context, CommandProcessor.class, null));
        Osgi.eventually("the shell commands and both backstore types are registered", () -> {
            try {
                String types = shell.run("backstore:types");
                return types.contains("memory") && types.contains("file");
            } catch (Exception e) {
                return false;
            }
        }, () -> "backstore types " + service.backstoreTypes());
    }

    @Test
    public void createListAndDeleteEveryObject() throws Exception {
        String target = "iqn.2026-11.org.jtarget.itest:shell";
        int port = freePort();
        String portal = "127.0.0.1:" + port;

        assertThat(shell.run("backstore:create ram1 memory size=16M"), containsString("ram1"));
        assertThat(shell.run("target:create --fabric iscsi " + target), containsString(target));
        shell.run("tpg:create " + target + " 1");
        shell.run("tpg:set " + target + " 1 generate_node_acls false");
        shell.run("portal:add " + target + " 1 " + portal);
        shell.run("lun:add " + target + " 1 0 ram1");
        shell.run("acl:add " + target + " 1 " + INITIATOR);
        shell.run("acl:chap " + target + " 1 " + INITIATOR + " itestuser itest-secret-0123");

        // What the service holds is what the commands asked for.
        BackstoreInfo ram = backstore("ram1");
        assertEquals(BackstoreInfo.State.ONLINE, ram.state());
        assertEquals(16L << 20, ram.blockSize() * ram.blockCount());
        TpgInfo tpg = service.target(target).tpgs().get(0);
        assertEquals(1, tpg.tag());
        assertEquals("false", tpg.attributes().get(TargetService.ATTR_GENERATE_NODE_ACLS));
        assertTrue(tpg.portals().toString(), tpg.portals().contains(portal));
        assertEquals("ram1", tpg.luns().get(0).backstore());
        assertTrue(tpg.luns().get(0).online());
        AclInfo acl = tpg.acls().get(0);
        assertEquals(INITIATOR, acl.initiator());
        assertNotNull("acl:chap set CHAP secrets", acl.chap());

        // The listings show it all, and never a secret.
        String backstores = shell.run("backstore:list");
        assertThat(backstores, containsString("ram1"));
        assertThat(backstores, containsString("memory"));
        assertThat(backstores, containsString("online"));
        assertThat(shell.run("target:list"), containsString(target));
        String show = shell.run("target:show " + target);
        assertThat(show, containsString(portal));
        assertThat(show, containsString("lun 0 -> ram1"));
        assertThat(show, containsString(INITIATOR));
        assertThat(show, not(containsString("itest-secret-0123")));
        assertThat(shell.run("portal:list"), containsString(portal));
        assertThat(shell.run("lun:list"), containsString("ram1"));

        // The iSCSI fabric listens on the portal at once.
        Osgi.eventually("the portal accepts connections", () -> connects(port), () -> "no listener on " + portal);

        // A backstore a LUN maps cannot go.
        assertThat(shell.refused("backstore:delete ram1"), containsString("ram1"));

        shell.run("acl:remove " + target + " 1 " + INITIATOR);
        shell.run("lun:remove " + target + " 1 0");
        shell.run("portal:remove " + target + " 1 " + portal);
        Osgi.eventually("the portal stops listening", () -> !connects(port), () -> "still listening on " + portal);
        tpg = service.target(target).tpgs().get(0);
        assertTrue(tpg.acls().isEmpty() && tpg.luns().isEmpty() && tpg.portals().isEmpty());
        shell.run("tpg:delete " + target + " 1");
        assertTrue(service.target(target).tpgs().isEmpty());
        shell.run("target:delete " + target);
        shell.run("backstore:delete ram1");
        assertFalse(shell.run("target:list").contains(target));
        assertFalse(shell.run("backstore:list").contains("ram1"));
        assertTrue(service.targets().stream().map(TargetInfo::name).noneMatch(target::equals));
    }

    @Test
    public void typesDescribeTheBackstoreParameters() throws Exception {
        String types = shell.run("backstore:types");
        for (String word : new String[] {"file", "memory", "size", "block_size", "write_cache", "512"}) {
            assertThat(types, containsString(word));
        }
    }

    @Test
    public void deleteWithDestroyRemovesTheBackingFile() throws Exception {
        shell.run("backstore:create fdisk file file=shell-fdisk.img size=1M");
        Path image = Path.of(System.getProperty("jtarget.home"), "data", "shell-fdisk.img");
        assertTrue("created in the data folder: " + image, Files.isRegularFile(image));
        assertEquals(1 << 20, Files.size(image));
        shell.run("backstore:delete --destroy fdisk");
        assertFalse("--destroy removes the file", Files.exists(image));

        shell.run("backstore:create fkeep file file=shell-keep.img size=1M");
        shell.run("backstore:delete fkeep");
        assertTrue("without --destroy the data stay", Files.exists(image.resolveSibling("shell-keep.img")));
    }

    @Test
    public void wrongArgumentsFailWithClearMessages() throws Exception {
        String target = "iqn.2026-11.org.jtarget.itest:errors";
        assertThat(shell.refused("backstore:create bad memory size=12X"),
                containsString("size: 12X (expected: a number with optional K, M, G or T)"));
        assertThat(shell.refused("backstore:create bad nosuchtype size=1M"), containsString("nosuchtype"));
        assertThat(shell.refused("backstore:create bad memory size"), containsString("key=value"));
        assertTrue("a refused create leaves nothing", service.backstores().stream().noneMatch(b -> b.name().equals("bad")));

        shell.run("target:create " + target);
        assertThat(shell.refused("tpg:create " + target + " 0"), containsString("TPG tag: 0"));
        assertThat(shell.refused("tpg:create " + target + " one"), containsString("TPG tag: one"));
        shell.run("tpg:create " + target + " 1");
        assertThat(shell.refused("lun:add " + target + " 1 99999 ram"), containsString("LUN: 99999"));
        assertThat(shell.refused("lun:add " + target + " 1 0 nosuchbackstore"), containsString("nosuchbackstore"));
        assertThat(shell.refused("portal:add " + target + " 1 127.0.0.1:notaport"), containsString("notaport"));
        assertThat(shell.refused("target:show iqn.2026-11.org.jtarget.itest:nosuch"), containsString("nosuch"));
        assertTrue(service.target(target).tpgs().get(0).luns().isEmpty());
        shell.run("target:delete " + target);
    }

    private BackstoreInfo backstore(String name) {
        return service.backstores().stream().filter(b -> b.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no backstore " + name + " in " + service.backstores()));
    }

    private static boolean connects(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
