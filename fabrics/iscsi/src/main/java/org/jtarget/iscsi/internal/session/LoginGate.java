package org.jtarget.iscsi.internal.session;

import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jtarget.iscsi.internal.login.LogLimiter;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.spi.fabric.TpgLimit;

/**
 * Admission of one connection until its login ends (event loop only): at most
 * {@link TpgLimit#MAX_LOGINS_PER_ADDRESS} connections per source address may be in login at a time, and each has
 * {@link TpgLimit#LOGIN_TIMEOUT} seconds from its arrival to reach the full feature phase (RFC 7143 §6.3 sets no
 * bound; LIO's login_timeout is the model). Both act before the initiator names its target, so they come from
 * the TPGs listening on the portal the connection reached: the smallest value any of them sets, the default
 * when none does (looked up at most once a second per portal, so that a flood of connections does not walk
 * every TPG for each). Only connections in login are counted: established sessions are never affected.
 */
final class LoginGate {
    private final SessionRegistry registry;
    private final LogLimiter log;
    private String address;
    private ScheduledFuture<?> timer;

    /** @param log where refusals and timeouts are written, a few lines a minute however many there are */
    LoginGate(SessionRegistry registry, LogLimiter log) {
        this.registry = registry;
        this.log = log;
    }

    /**
     * Counts a new connection; false when it must be closed at once (too many in login from its address).
     * {@code onTimeout} runs on the event loop when the login outlives the timeout.
     */
    boolean admit(ChannelHandlerContext ctx, InetSocketAddress portal, Supplier<List<TpgEndpoint>> portalTpgs,
                  Runnable onTimeout) {
        int[] limits = registry.portalLimits(portal, () -> {
            List<TpgEndpoint> tpgs = portalTpgs.get();
            return new int[] {smallest(tpgs, TpgLimit.MAX_LOGINS_PER_ADDRESS), smallest(tpgs, TpgLimit.LOGIN_TIMEOUT)};
        });
        int max = limits[0];
        int timeout = limits[1];
        String from = host(ctx.channel().remoteAddress());
        if (!registry.loginStarted(from, max)) {
            log.log(TpgLimit.MAX_LOGINS_PER_ADDRESS.key(), "connections in login from " + from + ": more than " + max
                    + " (expected: at most " + TpgLimit.MAX_LOGINS_PER_ADDRESS.key() + " " + max + "): closed");
            return false;
        }
        address = from;
        timer = ctx.executor().schedule(() -> {
            if (address != null) {
                log.log(TpgLimit.LOGIN_TIMEOUT.key(), "login from " + from + ": not complete after " + timeout
                        + " s (expected: within " + TpgLimit.LOGIN_TIMEOUT.key() + " " + timeout + "): closing");
                onTimeout.run();
            }
        }, timeout, TimeUnit.SECONDS);
        return true;
    }

    /** The login ended (full feature phase reached, or the connection closed): no longer counted. Idempotent. */
    void end() {
        if (address != null) {
            registry.loginEnded(address);
            address = null;
        }
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static int smallest(List<TpgEndpoint> tpgs, TpgLimit limit) {
        int value = Integer.MAX_VALUE;
        for (TpgEndpoint t : tpgs) {
            if (t.parameters().containsKey(limit.key())) {
                value = Math.min(value, limit.valueIn(t.parameters()));
            }
        }
        return value == Integer.MAX_VALUE ? limit.defaultValue() : value;
    }

    /** The source host (no port); non-IP channels (tests) share one key. */
    private static String host(SocketAddress remote) {
        return remote instanceof InetSocketAddress a && a.getAddress() != null ? a.getAddress().getHostAddress()
                : String.valueOf(remote);
    }
}
