package org.jtarget.backstore.nbd.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backstore type {@code nbd}: an export of an NBD server (nbdkit, nbd-server, qemu-nbd), reached by an NBD
 * URI. The export's size and what it offers (FLUSH, FUA, TRIM, WRITE_ZEROES, block status, multi-conn) come
 * from the server at every open; nothing is stored here. An unreachable server fails the open at once with
 * a message that says why (connection refused, timeout, export not found).
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=nbd")
public final class NbdBackstoreProvider implements BackstoreProvider {
    static final String URI = NbdUri.KEY;
    static final String CONNECTIONS = "connections";
    static final String BLOCK_SIZE = "block_size";
    static final int MAX_IN_FLIGHT = 128;
    static final long CONNECT_TIMEOUT_MILLIS = 5000;
    static final long RETRY_MILLIS = 30_000;
    private static final Set<String> KNOWN = Set.of(URI, CONNECTIONS, BLOCK_SIZE);
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(URI, "nbd://HOST[:PORT][/EXPORT] (port 10809 by default) or"
                    + " nbd+unix:///EXPORT?socket=PATH (a Unix domain socket)", true, null),
            new ParameterDescriptor(CONNECTIONS, "connections to open (1 to 16) when the server allows several"
                    + " (NBD_FLAG_CAN_MULTI_CONN), else one; with several allowed, each event loop of a fabric that"
                    + " calls the backstore also gets one of its own, up to this many", false, "4"),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096; by default 512 unless the"
                    + " server's minimum block size is larger", false, null));
    private static final Logger LOG = LoggerFactory.getLogger(NbdBackstoreProvider.class);

    private final Transport transport;
    private final long retryMillis;
    private final java.util.Set<NbdBackstore> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public NbdBackstoreProvider() {
        this(new Transport(Math.min(4, Runtime.getRuntime().availableProcessors()), CONNECT_TIMEOUT_MILLIS), RETRY_MILLIS);
    }

    NbdBackstoreProvider(Transport transport, long retryMillis) {
        this.transport = transport;
        this.retryMillis = retryMillis;
    }

    /** Closes what is still open (NBD_CMD_DISC, a short grace for replies), then stops the event loops. */
    @Deactivate
    void deactivate() {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (NbdBackstore b : List.copyOf(open)) {
            closing.add(b.close().toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("nbd backstores not closed cleanly within 10 s: {}", e.toString());
        }
        transport.close();
    }

    @Override
    public String type() {
        return "nbd";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        NbdUri uri;
        int connections;
        Integer blockSize;
        try {
            BackstoreParameters.checkKnown(context.parameters(), KNOWN);
            String text = context.parameters().get(URI);
            if (text == null || text.isBlank()) {
                throw BackstoreParameters.invalid(URI + ": missing (expected: nbd://HOST[:PORT][/EXPORT])");
            }
            uri = NbdUri.parse(text);
            connections = connections(context.parameter(CONNECTIONS, "4"));
            String bs = context.parameters().get(BLOCK_SIZE);
            blockSize = bs == null ? null : BackstoreParameters.blockSize(bs);
        } catch (BackstoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        return transport.connect(uri).thenCompose(first -> {
            Export export = first.export();
            int size;
            try {
                size = chooseBlockSize(uri, export, blockSize);
            } catch (BackstoreException e) {
                first.disconnect();
                throw new CompletionException(e);
            }
            int n = export.has(Nbd.FLAG_CAN_MULTI_CONN) ? connections : 1;
            List<CompletableFuture<NbdConnection>> more = new ArrayList<>();
            for (int i = 1; i < n; i++) {
                more.add(transport.connect(uri));
            }
            return CompletableFuture.allOf(more.toArray(CompletableFuture[]::new)).handle((v, t) -> {
                List<NbdConnection> all = new ArrayList<>();
                all.add(first);
                more.stream().filter(f -> !f.isCompletedExceptionally()).forEach(f -> all.add(f.join()));
                if (t != null) {
                    all.forEach(NbdConnection::disconnect);
                    throw t instanceof CompletionException c ? c : new CompletionException(t);
                }
                NbdBackstore[] made = new NbdBackstore[1];
                made[0] = new NbdBackstore(context.name(), uri, transport, all, export.has(Nbd.FLAG_CAN_MULTI_CONN) ? connections : 0, size, MAX_IN_FLIGHT, retryMillis,
                        () -> open.remove(made[0]));
                NbdBackstore b = made[0];
                open.add(b);
                LOG.info("backstore {}: {} opened via {}: {} blocks of {} bytes, {} connection(s), offers {}",
                        context.name(), uri, export.viaGo() ? "NBD_OPT_GO" : "NBD_OPT_EXPORT_NAME", b.blockCount(),
                        size, all.size(), offers(export));
                return (Backstore) b;
            });
        });
    }

    static String offers(Export e) {
        StringBuilder s = new StringBuilder();
        s.append(e.has(Nbd.FLAG_SEND_FLUSH) ? "FLUSH (write cache on)" : "no FLUSH (write cache off)");
        s.append(e.has(Nbd.FLAG_SEND_FUA) ? ", FUA" : "");
        s.append(e.has(Nbd.FLAG_SEND_TRIM) ? ", TRIM (UNMAP)" : "");
        s.append(e.has(Nbd.FLAG_SEND_WRITE_ZEROES) ? ", WRITE_ZEROES" : "");
        s.append(e.allocationContext() >= 0 ? ", base:allocation (GET LBA STATUS)" : "");
        s.append(e.structured() ? ", structured replies" : ", simple replies");
        s.append(e.has(Nbd.FLAG_READ_ONLY) ? ", read-only" : "");
        return s.toString();
    }

    static int chooseBlockSize(NbdUri uri, Export export, Integer requested) throws BackstoreException {
        int size = requested != null ? requested : export.minBlock() <= 512 ? 512 : 4096;
        if (export.minBlock() > size) {
            throw BackstoreParameters.invalid(uri + ": the server's minimum block size is " + export.minBlock()
                    + " (expected: at most " + size + ")");
        }
        if (export.size() < size || export.size() % size != 0) {
            throw BackstoreParameters.invalid(uri + ": export size " + export.size()
                    + " (expected: a positive multiple of the block size " + size + ")");
        }
        return size;
    }

    private static int connections(String value) throws BackstoreException {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1 && n <= 16) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw BackstoreParameters.invalid(CONNECTIONS + ": " + value + " (expected: 1 to 16)");
    }
}
