package org.jtarget.backstore.nbd.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoop;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops NBD connections run on, and connecting plus handshaking. Native epoll is used when its
 * bundle is installed (it is looked up by name: an optional import), else NIO, which reaches Unix domain
 * sockets ({@code nbd+unix}) too on Java 16 and later (Netty's NioDomainSocketChannel).
 */
final class Transport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
    private final EventLoopGroup group;
    private final Class<? extends Channel> tcpChannel;
    private final Class<? extends Channel> unixChannel;
    private final boolean nativeEpoll;
    final long connectTimeoutMillis;
    final long replyTimeoutMillis;
    /** Host name lookups, one at a time, on a daemon thread that ends when idle. */
    private final java.util.concurrent.ThreadPoolExecutor lookups = new java.util.concurrent.ThreadPoolExecutor(1, 1,
            10, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), new DefaultThreadFactory("jtarget-nbd-lookup", true));

    Transport(int threads, long connectTimeoutMillis) {
        this(threads, connectTimeoutMillis, 30_000);
    }

    /**
     * @param connectTimeoutMillis for the TCP connection and again for the handshake
     * @param replyTimeoutMillis   requests waiting this long with no reply at all close the connection
     */
    @SuppressWarnings("unchecked")
    Transport(int threads, long connectTimeoutMillis, long replyTimeoutMillis) {
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.replyTimeoutMillis = replyTimeoutMillis;
        lookups.allowCoreThreadTimeOut(true);
        EventLoopGroup epollGroup = null;
        Class<? extends Channel> tcp = NioSocketChannel.class;
        Class<? extends Channel> unix = NioDomainSocketChannel.class;
        try {
            ClassLoader loader = Transport.class.getClassLoader();
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll", true, loader);
            if ((Boolean) epoll.getMethod("isAvailable").invoke(null)) {
                epollGroup = (EventLoopGroup) Class.forName("io.netty.channel.epoll.EpollEventLoopGroup", true, loader)
                        .getConstructor(int.class, java.util.concurrent.ThreadFactory.class)
                        .newInstance(threads, new DefaultThreadFactory("jtarget-nbd", true));
                tcp = (Class<? extends Channel>) Class.forName("io.netty.channel.epoll.EpollSocketChannel", true, loader);
                unix = (Class<? extends Channel>) Class.forName("io.netty.channel.epoll.EpollDomainSocketChannel", true, loader);
            }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            LOG.debug("native epoll not available, NBD connections use NIO: {}", e.toString());
            tcp = NioSocketChannel.class;
            unix = NioDomainSocketChannel.class;
            epollGroup = null;
        }
        this.group = epollGroup != null ? epollGroup : new NioEventLoopGroup(threads, new DefaultThreadFactory("jtarget-nbd", true));
        this.tcpChannel = tcp;
        this.unixChannel = unix;
        this.nativeEpoll = epollGroup != null;
    }

    boolean nativeEpoll() {
        return nativeEpoll;
    }

    EventLoopGroup group() {
        return group;
    }

    /**
     * Connects to {@code uri} and runs the handshake. The stage fails with a {@link BackstoreException} whose
     * message starts with the URI and says what went wrong (connection refused, timeout, export not found).
     */
    CompletableFuture<NbdConnection> connect(NbdUri uri) {
        return connect(uri, group, nativeEpoll);
    }

    /**
     * Whether a connection can be put on {@code executor}, an event loop of another bundle (the iSCSI fabric's
     * connection that calls the backstore): {@code NIO} or {@code EPOLL} (the channel kind that loop takes), or
     * null when it is this transport's own loop, not an event loop, or one of a kind this transport cannot use.
     */
    Boolean epollFor(io.netty.util.concurrent.EventExecutor executor) {
        if (!(executor instanceof EventLoop loop) || loop.parent() == group) {
            return null;
        }
        if (loop instanceof NioEventLoop) {
            return Boolean.FALSE;
        }
        return nativeEpoll && loop.getClass().getName().equals("io.netty.channel.epoll.EpollEventLoop") ? Boolean.TRUE : null;
    }

    /**
     * As {@link #connect(NbdUri)}, with the channel registered on {@code on} (a loop for which
     * {@link #epollFor} said {@code epoll}).
     */
    CompletableFuture<NbdConnection> connect(NbdUri uri, EventLoopGroup on, boolean epoll) {
        if (uri.unix()) {
            return connect(uri, epoll ? new DomainSocketAddress(uri.socket()) : UnixDomainSocketAddress.of(uri.socket()),
                    on, epoll ? unixChannel : NioDomainSocketChannel.class);
        }
        if (lookups.isShutdown()) {
            return CompletableFuture.failedFuture(new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY,
                    uri + ": the nbd backstore provider is stopping"));
        }
        // a name lookup may block: not on an event loop (reconnections start there)
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new InetSocketAddress(java.net.InetAddress.getByName(uri.host()), uri.port());
            } catch (UnknownHostException e) {
                throw new CompletionException(new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                        uri + ": unknown host " + uri.host()));
            }
        }, lookups).thenCompose(address -> connect(uri, address, on, epoll ? tcpChannel : NioSocketChannel.class));
    }

    private CompletableFuture<NbdConnection> connect(NbdUri uri, SocketAddress address, EventLoopGroup on,
                                                     Class<? extends Channel> channelClass) {
        CompletableFuture<NbdConnection> result = new CompletableFuture<>();
        NbdConnection[] made = new NbdConnection[1];
        Handshake[] handshake = new Handshake[1];
        Bootstrap b = new Bootstrap().group(on).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeoutMillis)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        handshake[0] = new Handshake(uri.export(), connectTimeoutMillis, export -> {
                            made[0] = new NbdConnection(export, uri.toString(), replyTimeoutMillis);
                            return made[0];
                        });
                        ch.pipeline().addLast("nbd-handshake", handshake[0]);
                    }
                });
        if (!uri.unix()) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        ChannelFuture connecting = b.connect(address);
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(connectFailure(uri, f.cause()));
                return;
            }
            handshake[0].result.whenComplete((export, t) -> {
                if (t != null) {
                    BackstoreException e = (BackstoreException) (t instanceof CompletionException ? t.getCause() : t);
                    result.completeExceptionally(new BackstoreException(e.reason(), uri + ": " + e.getMessage()));
                } else {
                    result.complete(made[0]);
                }
            });
        });
        return result;
    }

    private BackstoreException connectFailure(NbdUri uri, Throwable t) {
        String what;
        if (t instanceof io.netty.channel.ConnectTimeoutException) {
            what = "no connection within " + connectTimeoutMillis + " ms (timeout)";
        } else if (t instanceof ConnectException && String.valueOf(t.getMessage()).contains("refused")) {
            what = "connection refused";
        } else if (uri.unix() && String.valueOf(t.getMessage()).contains("No such file")) {
            what = "no socket " + uri.socket();
        } else {
            what = "cannot connect: " + t.getMessage();
        }
        return new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, uri + ": " + what, t);
    }

    @Override
    public void close() {
        lookups.shutdown();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
}
