package org.jtarget.iscsi.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
        Channel listener = fabric.portalChannel(any);
        fabric.startPortal(any); // a second start of the same address is a no-op
        assertSame(listener, fabric.portalChannel(any));
        try (Socket client = new Socket(bound.getAddress(), bound.getPort())) {
            client.setSoTimeout(5000);
            Thread.sleep(200);
            fabric.stopPortal(any);
            InputStream in = client.getInputStream();
            assertEquals(-1, in.read(), "the accepted connection is closed");
        }
        assertNull(fabric.boundAddress(any));
        // the listening socket itself is closed: a probe of the freed (ephemeral) port could not tell our listener
        // from another process's that took the port at once, which made CI fail twice
        assertFalse(listener.isOpen(), "the portal's listening socket is still open");
    }
}
