package org.jtarget.core.internal.registry;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;

/**
 * Which addresses each fabric listens on: one listener per distinct address and fabric, counted across
 * the TPGs that use it. Guarded by the registry lock.
 */
final class PortalListeners {
    private static final class Use {
        int users;
        boolean listening;
    }

    private final Map<String, Map<InetSocketAddress, Use>> byFabric = new HashMap<>();

    /**
     * Counts one more user of {@code address}; starts listening when the fabric is present and
     * nobody listens there yet.
     *
     * @return null, or why listening failed (the user stays counted; call {@link #release} to undo)
     */
    String acquire(String fabric, InetSocketAddress address, FabricModule module) {
        Use use = byFabric.computeIfAbsent(fabric, f -> new LinkedHashMap<>()).computeIfAbsent(address, a -> new Use());
        use.users++;
        return module == null ? null : start(module, address, use);
    }

    /** One user less; the last one stops the listener. */
    void release(String fabric, InetSocketAddress address, FabricModule module) {
        Map<InetSocketAddress, Use> uses = byFabric.get(fabric);
        Use use = uses == null ? null : uses.get(address);
        if (use == null) {
            return;
        }
        if (--use.users > 0) {
            return;
        }
        uses.remove(address);
        if (uses.isEmpty()) {
            byFabric.remove(fabric);
        }
        if (use.listening && module != null) {
            use.listening = false;
            module.stopPortal(address);
        }
    }

    /** Starts every address of a fabric that just arrived; returns one line per address that failed. */
    List<String> fabricArrived(String fabric, FabricModule module) {
        List<String> failures = new ArrayList<>();
        Map<InetSocketAddress, Use> uses = byFabric.getOrDefault(fabric, Map.of());
        uses.forEach((address, use) -> {
            String error = start(module, address, use);
            if (error != null) {
                failures.add(error);
            }
        });
        return failures;
    }

    /** The fabric left: its listeners went with it. */
    void fabricLeft(String fabric) {
        byFabric.getOrDefault(fabric, Map.of()).values().forEach(use -> use.listening = false);
    }

    /** Stops every listener (the core is going away). */
    void stopAll(Map<String, FabricModule> fabrics) {
        byFabric.forEach((fabric, uses) -> {
            FabricModule module = fabrics.get(fabric);
            uses.forEach((address, use) -> {
                if (use.listening && module != null) {
                    use.listening = false;
                    try {
                        module.stopPortal(address);
                    } catch (RuntimeException e) {
                        // the fabric may be half gone at shutdown; nothing else to do
                    }
                }
            });
        });
    }

    boolean listening(String fabric, InetSocketAddress address) {
        Use use = byFabric.getOrDefault(fabric, Map.of()).get(address);
        return use != null && use.listening;
    }

    private static String start(FabricModule module, InetSocketAddress address, Use use) {
        if (use.listening) {
            return null;
        }
        try {
            module.startPortal(address);
            use.listening = true;
            return null;
        } catch (FabricException | RuntimeException e) {
            return "cannot listen on " + text(address) + ": " + e.getMessage();
        }
    }

    static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
