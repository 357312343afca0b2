package org.jtarget.nbd.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
 * The NBD export fabric: serves LUN 0 of each target of fabric {@code nbd} (the target name is the export
 * name) to NetworkBlockDevice clients on the portals the core starts. Several exports share a portal; the
 * client chooses one by name (NBD_OPT_GO, NBD_OPT_EXPORT_NAME) and discovers them with NBD_OPT_LIST.
 */
@Component(service = FabricModule.class, property = FabricModule.NAME_PROPERTY + "=" + NbdFabric.NAME)
public final class NbdFabric implements FabricModule {
    public static final String NAME = "nbd";
    /** SPC-4 7.6.1 table 444: NBD has no protocol identifier of its own; Fh is "no specific protocol". */
    static final int PROTOCOL_ID = 0xF;
    private static final Logger LOG = LoggerFactory.getLogger(NbdFabric.class);
    private static final int WRITE_LOW = 1 << 20;
    private static final int WRITE_HIGH = 4 << 20;

    private final TargetCore core;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ChannelGroup connections = new DefaultChannelGroup("nbd", GlobalEventExecutor.INSTANCE);
    private final Map<InetSocketAddress, Channel> portals = new ConcurrentHashMap<>();
    private final Handshakes handshakes = new Handshakes();

    @Activate
    public NbdFabric(@Reference(name = "core") TargetCore core) {
        this.core = core;
        this.bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("nbd-accept", true));
        this.workerGroup = new NioEventLoopGroup(0, new DefaultThreadFactory("nbd-io", true));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int protocolIdentifier() {
        return PROTOCOL_ID;
    }

    /**
     * Export names (and ACL names such as {@code nbd:127.0.0.1}): 1 to {@value Nbd#MAX_STRING} bytes of UTF-8
     * (the protocol's limit), printable, without spaces (they are shell arguments and URI paths).
     */
    @Override
    public String validateTargetName(String name) {
        return checkName(name);
    }

    static String checkName(String name) {
        if (name == null || name.isEmpty()) {
            return "an NBD export name is required (1..4096 bytes, printable, no spaces)";
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Nbd.MAX_STRING) {
            return "NBD export name: " + bytes + " bytes (expected: <= " + Nbd.MAX_STRING + ")";
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (Character.isWhitespace(ch) || Character.isISOControl(ch) || ch == '/' && i == 0) {
                return "NBD export name: " + name + " (expected: printable characters without spaces, not starting with /)";
            }
        }
        return null;
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
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(WRITE_LOW, WRITE_HIGH))
                // reads grow up to 1 MiB: a 64 KiB write and its header arrive in one read, not merged from pieces
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(4096, 65536, 1 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        // replies of requests completing together leave in one write system call
                        ch.pipeline().addLast("flush", new FlushConsolidationHandler(256, true));
                        ch.pipeline().addLast("nbd", new NbdConnection(core, NAME, handshakes));
                    }
                });
        try {
            Channel server = bootstrap.bind(address).sync().channel();
            portals.put(address, server);
            LOG.info("NBD portal listening on {}", server.localAddress());
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
            if (c.parent() == server) {
                c.close();
            }
        }
        LOG.info("NBD portal on {} stopped", address);
    }

    @Deactivate
    public synchronized void deactivate() {
        portals.values().forEach(Channel::close);
        portals.clear();
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
