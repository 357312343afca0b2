package org.jtarget.iscsi.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.codec.IscsiFrameDecoder;
import org.jtarget.iscsi.internal.codec.IscsiPduEncoder;
import org.jtarget.iscsi.internal.session.FabricContext;
import org.jtarget.iscsi.internal.session.IscsiConnection;

/**
 * The pipeline of an accepted connection: flush consolidation (one flush per batch of responses, also for
 * completions arriving between reads), framing and decoding, encoding, then the connection's protocol logic.
 */
final class IscsiChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final FabricContext fabric;
    private final ChannelGroup connections;

    IscsiChannelInitializer(FabricContext fabric, ChannelGroup connections) {
        this.fabric = fabric;
        this.connections = connections;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        connections.add(channel);
        ConnectionSettings settings = new ConnectionSettings();
        ChannelPipeline p = channel.pipeline();
        p.addLast("flush", new FlushConsolidationHandler(256, true));
        p.addLast("idle", new IdleStateHandler(IscsiConnection.IDLE_SECONDS, 0, 0, TimeUnit.SECONDS));
        p.addLast("frame", new IscsiFrameDecoder(settings));
        p.addLast("encoder", new IscsiPduEncoder(settings));
        p.addLast("iscsi", new IscsiConnection(fabric, settings, null));
    }
}
