package org.example.jtarget.linefabric;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.TargetCore;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Fabric {@code line}: a text protocol on TCP, one command per line and one answer line per command
 * ({@link LineConnection} lists them), that turns each command into a SCSI command for the core. It is
 * small on purpose: it shows what a fabric does with the fabric SPI alone (register, listen on the
 * portals the core starts, log an initiator in, submit tasks, hand data over and take it back).
 *
 * <p>Declarative Services registers it as a {@link FabricModule} with {@code fabric.name=line} once the
 * core's {@link TargetCore} service is there, and deactivates it when this bundle stops (or the core
 * leaves): it then closes its portals and sessions; the core forgets its listeners and starts them again
 * when the fabric returns. Each connection has a thread of its own (blocking sockets): enough for an
 * example, and it keeps the core's threads free, since the fabric only ever waits on its own threads.
 */
@Component(service = FabricModule.class, property = FabricModule.NAME_PROPERTY + "=" + LineFabric.NAME)
public final class LineFabric implements FabricModule {
    static final String NAME = "line";
    /** SPC-4 7.6.1 table 401: no specific protocol. */
    private static final int PROTOCOL_ID = 0xF;
    /** Connections served at once, over all portals; more are closed as they arrive. */
    static final int MAX_CONNECTIONS = 16;
    private static final Pattern TARGET_NAME = Pattern.compile("[a-z0-9][a-z0-9.:-]{0,222}");

    private final TargetCore core;
    private final Map<InetSocketAddress, ServerSocket> portals = new ConcurrentHashMap<>();
    private final Set<LineConnection> connections = ConcurrentHashMap.newKeySet();

    @Activate
    public LineFabric(@Reference(name = "core") TargetCore core) {
        this.core = core;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int protocolIdentifier() {
        return PROTOCOL_ID;
    }

    @Override
    public String validateTargetName(String name) {
        if (name == null || !TARGET_NAME.matcher(name).matches()) {
            return "target name: " + name + " (expected: 1 to 223 of a-z, 0-9, '.', ':', '-', e.g. iqn.2026-11.org.example:t1)";
        }
        return null;
    }

    /** Binds the address and accepts on a thread of its own; called by the core, once per address. */
    @Override
    public synchronized void startPortal(InetSocketAddress address) throws FabricException {
        if (portals.containsKey(address)) {
            return;
        }
        ServerSocket server;
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(address, 16);
        } catch (IOException e) {
            throw new FabricException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": "
                    + e.getMessage(), e);
        }
        portals.put(address, server);
        Thread accept = new Thread(() -> accept(server), "line-accept-" + address.getPort());
        accept.setDaemon(true);
        accept.start();
    }

    private void accept(ServerSocket server) {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed by stopPortal or deactivate
            }
            if (connections.size() >= MAX_CONNECTIONS) {
                closeQuietly(socket);
                continue;
            }
            LineConnection c = new LineConnection(core, socket, server, connections::remove);
            connections.add(c);
            Thread t = new Thread(c, "line-" + socket.getRemoteSocketAddress());
            t.setDaemon(true);
            t.start();
        }
    }

    /** Stops listening on the address and closes the connections accepted there (their sessions end). */
    @Override
    public synchronized void stopPortal(InetSocketAddress address) {
        ServerSocket server = portals.remove(address);
        if (server == null) {
            return;
        }
        closeQuietly(server);
        for (LineConnection c : connections) {
            if (c.portal() == server) {
                c.close();
            }
        }
    }

    /** The bundle stops: every portal and connection goes; each open session is closed in the core. */
    @Deactivate
    synchronized void deactivate() {
        portals.values().forEach(LineFabric::closeQuietly);
        portals.clear();
        connections.forEach(LineConnection::close);
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing: nothing left to do
        }
    }
}
