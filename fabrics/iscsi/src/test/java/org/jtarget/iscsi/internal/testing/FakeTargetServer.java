package org.jtarget.iscsi.internal.testing;

import java.net.InetSocketAddress;
import org.jtarget.iscsi.internal.IscsiFabric;

/**
 * Serves the fabric with a {@link FakeTargetCore} for manual runs of initiator test suites:
 * {@code java -cp ... FakeTargetServer <port> <target-name> [blocks]}. Runs until killed.
 */
public final class FakeTargetServer {
    private FakeTargetServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String target = args.length > 1 ? args[1] : "iqn.2026-11.org.jtarget:fake";
        int blocks = args.length > 2 ? Integer.parseInt(args[2]) : 65536;
        FakeTargetCore core = new FakeTargetCore();
        IscsiFabric fabric = new IscsiFabric(core);
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        core.addTarget(target, 1, address, blocks);
        fabric.startPortal(address);
        System.out.println("serving " + target + " on " + fabric.boundAddress(address));
        Runtime.getRuntime().addShutdownHook(new Thread(fabric::deactivate));
        Thread.currentThread().join();
    }
}
