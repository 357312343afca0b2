package org.jtarget.iscsi.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.spi.fabric.FabricException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class IscsiFabricTest {
    private final IscsiFabric fabric = new IscsiFabric(new FakeTargetCore());

    @AfterEach
    void stop() {
        fabric.deactivate();
    }

    @Test
    void identifiesItself() {
        assertEquals("iscsi", fabric.name());
        assertEquals(5, fabric.protocolIdentifier());
    }

    @Test
    void validatesIscsiNames() {
        assertNull(fabric.validateTargetName("iqn.2026-11.org.jtarget:default"));
        assertNull(fabric.validateTargetName("iqn.2003-01.org.linux-iscsi.host.x8664:sn.1234"));
        assertNull(fabric.validateTargetName("eui.02004567A425678D"));
        assertNull(fabric.validateTargetName("naa.52004567BA64678D"));
        assertTrue(fabric.validateTargetName("IQN.2026-11.org.x").contains("expected"));
        assertTrue(fabric.validateTargetName("iqn.26-11.org.x").contains("expected"));
        assertTrue(fabric.validateTargetName("eui.1234").contains("expected"));
        assertTrue(fabric.validateTargetName("").contains("required"));
        assertTrue(fabric.validateTargetName("iqn.2026-11.org.x:" + "a".repeat(220)).contains("223"));
    }

    @Test
    void busyAddressGivesAClearError() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            FabricException e = assertThrows(FabricException.class, () -> fabric.startPortal(address));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }

    @Test
    void stopPortalClosesItsConnections() throws Exception {
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        fabric.startPortal(any);
        InetSocketAddress bound = fabric.boundAddress(any);
        fabric.startPortal(any); // a second start of the same address is a no-op
        try (Socket client = new Socket(bound.getAddress(), bound.getPort())) {
            client.setSoTimeout(5000);
            Thread.sleep(200);
            fabric.stopPortal(any);
            InputStream in = client.getInputStream();
            assertEquals(-1, in.read(), "the accepted connection is closed");
        }
        assertNull(fabric.boundAddress(any));
        assertNothingListens(bound);
    }

    /**
     * This process holds no listening socket on {@code address}'s port. The port was an ephemeral one, freed by the
     * stop, so another process may take it at once (that made a connection probe fail in CI twice: once a
     * self-connection, once a stranger's listener). On Linux the kernel's socket table says whose listener it is:
     * a listening socket on that port whose inode is one of this process's file descriptors. Elsewhere, a connection
     * must be refused.
     */
    private static void assertNothingListens(InetSocketAddress address) throws IOException {
        Path self = Path.of("/proc/self/fd");
        if (Files.isDirectory(self) && Files.isReadable(Path.of("/proc/net/tcp"))) {
            Set<String> ours = new HashSet<>();
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(self)) {
                for (Path fd : fds) {
                    try {
                        ours.add(Files.readSymbolicLink(fd).toString());
                    } catch (IOException closedMeanwhile) {
                        // the directory stream's own descriptor, or one closed since the listing
                    }
                }
            }
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                Path file = Path.of(table);
                if (!Files.isReadable(file)) {
                    continue;
                }
                for (String line : Files.readAllLines(file)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 10 || !f[1].contains(":") || !"0A".equals(f[3])) {
                        continue; // the header, or not a listening socket
                    }
                    int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                    if (port == address.getPort()) {
                        assertFalse(ours.contains("socket:[" + f[9] + "]"),
                                "this process still listens on " + address + " (" + table + ": " + line.trim() + ")");
                    }
                }
            }
            return;
        }
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            // with nobody listening TCP may connect a client given that port as its source port to itself
            assertEquals(address.getPort(), s.getLocalPort(), "something accepted a connection on " + address);
        } catch (IOException refused) {
            // nobody listens: what the test expects
        }
    }
}
