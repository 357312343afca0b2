package org.jtarget.iscsi.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jtarget.iscsi.internal.session.FabricContext;
import org.jtarget.iscsi.internal.session.SessionRegistry;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.TargetCore;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iSCSI fabric (RFC 7143 over TCP on Netty): listens on the portals the core starts and serves logins,
 * discovery and the full feature phase on Netty event loops (NIO), with pooled direct buffers.
 */
@Component(service = FabricModule.class, property = FabricModule.NAME_PROPERTY + "=" + IscsiFabric.NAME)
public final class IscsiFabric implements FabricModule {
    public static final String NAME = "iscsi";
    /** SPC-4 7.6.1 table 401: iSCSI. */
    private static final int PROTOCOL_ID = 5;
    private static final Logger LOG = LoggerFactory.getLogger(IscsiFabric.class);
    // RFC 7143 §4.2.7.4-4.2.7.6 name formats; at most 223 bytes (§4.2.7.1).
    private static final Pattern IQN = Pattern.compile("iqn\\.\\d{4}-\\d{2}\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?"
            + "(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:_-]*)?");
    private static final Pattern EUI = Pattern.compile("eui\\.[0-9A-Fa-f]{16}");
    private static final Pattern NAA = Pattern.compile("naa\\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})");

    /** Receive buffer sizes (bytes) of the adaptive allocator: grows with the traffic, shrinks when idle. */
    private static final int RECV_MINIMUM = 4096;
    private static final int RECV_INITIAL = 65536;
    private static final int RECV_MAXIMUM = 1 << 20;
    /** Bytes queued for a connection's socket (Netty's write buffer) below which / above which it is writable. */
    private static final int WRITE_LOW = 1 << 20;
    private static final int WRITE_HIGH = 4 << 20;

    private final FabricContext context;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ChannelGroup connections = new DefaultChannelGroup("iscsi", GlobalEventExecutor.INSTANCE);
    private final Map<InetSocketAddress, Channel> portals = new ConcurrentHashMap<>();

    @Activate
    public IscsiFabric(@Reference(name = "core") TargetCore core) {
        this.context = new FabricContext(core, NAME, new SessionRegistry(), new SecureRandom());
        this.bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("iscsi-accept", true));
        this.workerGroup = new NioEventLoopGroup(0, new DefaultThreadFactory("iscsi-io", true));
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
        if (name == null || name.isEmpty()) {
            return "an iSCSI name is required (iqn.YYYY-MM.reversed.domain[:id], eui.<16 hex>, naa.<16|32 hex>)";
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223) {
            return "iSCSI name: " + name.length() + " bytes (expected: <= 223, RFC 7143 §4.2.7.1)";
        }
        if (IQN.matcher(name).matches() || EUI.matcher(name).matches() || NAA.matcher(name).matches()) {
            return null;
        }
        return "iSCSI name: " + name + " (expected: iqn.YYYY-MM.reversed.domain[:id] in lower case, eui.<16 hex> "
                + "or naa.<16|32 hex>, RFC 7143 §4.2.7)";
    }

    @Override
    public synchronized void startPortal(InetSocketAddress address) throws FabricException {
        if (portals.containsKey(address)) {
            return;
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 256)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // Data-In back-pressure: above the high mark the peer is not reading; the connection stops
                // reading its PDUs and holds its read commands until the buffer drains below the low mark.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(WRITE_LOW, WRITE_HIGH))
                // Reads grow up to 1 MiB: a 256 KiB Data-Out segment (our MaxRecvDataSegmentLength) then
                // arrives in one or two reads instead of being merged from 64 KiB pieces (a copy per merge).
                .childOption(ChannelOption.RCVBUF_ALLOCATOR,
                        new AdaptiveRecvByteBufAllocator(RECV_MINIMUM, RECV_INITIAL, RECV_MAXIMUM))
                .childHandler(new IscsiChannelInitializer(context, connections));
        try {
            Channel server = bootstrap.bind(address).sync().channel();
            portals.put(address, server);
            LOG.info("iSCSI portal listening on {}", server.localAddress());
        } catch (Exception e) {
            throw new FabricException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void stopPortal(InetSocketAddress address) {
        Channel server = portals.remove(address);
        if (server == null) {
            return;
        }
        server.close().syncUninterruptibly();
        for (Channel c : connections) {
            if (c.parent() == server) { // accepted on this portal
                c.close();
            }
        }
        LOG.info("iSCSI portal on {} stopped", address);
    }

    /** The address a portal is bound to (its real port when started with port 0), or null. */
    public InetSocketAddress boundAddress(InetSocketAddress address) {
        Channel server = portals.get(address);
        return server == null ? null : (InetSocketAddress) server.localAddress();
    }

    /** The listening channel of a portal, or null (for tests: whether stopping it closed the socket). */
    Channel portalChannel(InetSocketAddress address) {
        return portals.get(address);
    }

    /** Sessions in the full feature phase. */
    public int sessionCount() {
        return context.registry().size();
    }

    @Deactivate
    public synchronized void deactivate() {
        portals.values().forEach(Channel::close);
        portals.clear();
        context.registry().closeAll();
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
