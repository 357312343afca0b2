package org.jtarget.backstore.memory.internal;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletableFuture;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.util.List;
import java.util.Set;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.Completions;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backstore type {@code memory}: a RAM disk, empty (all zeros) at every open. Its content is lost when
 * the object closes, including when this bundle is stopped or updated; only its parameters persist.
 *
 * <p>Memory budget. All memory backstores of this provider share one budget for the chunks they hold
 * (direct memory, outside the Java heap): the system property {@value #MAX_PROPERTY} (a size with K,
 * M, G or T), by default half of what the JVM allows for direct memory (Netty's
 * {@code PlatformDependent.maxDirectMemory()}: {@code -XX:MaxDirectMemorySize}, which defaults to the
 * heap size {@code -Xmx}). The other half is left to the network: Netty's pooled allocator sizes its
 * direct arenas to stay within half of the same limit (PooledByteBufAllocator: "the pool should not
 * consume more than 50% of max memory"), so a full RAM disk cannot starve the sessions' buffers. To
 * give RAM disks more, raise {@code -XX:MaxDirectMemorySize} (the default budget follows) or set the
 * property. A write that would exceed the budget fails with SPACE ALLOCATION FAILED WRITE PROTECT.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=memory")
public final class MemoryBackstoreProvider implements BackstoreProvider {
    /** System property: the most chunk memory all memory backstores may hold together. */
    static final String MAX_PROPERTY = "jtarget.memory.max";
    static final String SIZE = "size";
    static final String BLOCK_SIZE = "block_size";
    private static final Logger LOG = LoggerFactory.getLogger(MemoryBackstoreProvider.class);
    private static final Set<String> KNOWN = Set.of(SIZE, BLOCK_SIZE);
    /** 2^31 chunks of 1 MiB: the chunk table is indexed by int. */
    private static final long MAX_SIZE = (long) (Integer.MAX_VALUE - 8) << MemoryBackstore.CHUNK_SHIFT;
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(SIZE, "capacity with suffix K, M, G or T; memory is used only as blocks are written,"
                    + " from a budget shared by all memory backstores (-D" + MAX_PROPERTY + ")", true, null),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096", false, "512"));

    private final MemoryBudget budget;
    /** Unpooled: a chunk lives until unmapped, and its release frees the native memory at once. */
    private final ByteBufAllocator allocator = new UnpooledByteBufAllocator(true);

    public MemoryBackstoreProvider() {
        this(budgetBytes(System.getProperty(MAX_PROPERTY), PlatformDependent.maxDirectMemory()));
    }

    /** A provider with a budget of {@code maxBytes} (tests). */
    MemoryBackstoreProvider(long maxBytes) {
        this.budget = new MemoryBudget(maxBytes);
        LOG.info("memory backstores may hold {} of direct memory together ({} of direct memory allowed in this JVM)",
                MemoryBudget.format(maxBytes), MemoryBudget.format(PlatformDependent.maxDirectMemory()));
    }

    /**
     * The budget: {@code configured} (the property's value, null when unset) if it parses, else half of
     * {@code maxDirectMemory}. A bad value is logged and the default used, so that a typo leaves the
     * provider running with a safe limit instead of offline.
     */
    static long budgetBytes(String configured, long maxDirectMemory) {
        long fallback = Math.max(0, maxDirectMemory / 2);
        if (configured == null || configured.isBlank()) {
            return fallback;
        }
        long max;
        try {
            max = BackstoreParameters.size(MAX_PROPERTY, configured);
        } catch (BackstoreException e) {
            LOG.error("{}; using the default {}", e.getMessage(), MemoryBudget.format(fallback));
            return fallback;
        }
        if (max > maxDirectMemory) {
            LOG.warn("{}={} is more than the {} of direct memory this JVM allows (-XX:MaxDirectMemorySize): "
                    + "writes will fail with SPACE ALLOCATION FAILED when the JVM refuses, and network buffers may "
                    + "run short first", MAX_PROPERTY, configured, MemoryBudget.format(maxDirectMemory));
        }
        return max;
    }

    @Override
    public String type() {
        return "memory";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        return Completions.now(() -> openNow(context));
    }

    /** Opens at once: local storage needs no waiting. */
    Backstore openNow(BackstoreContext context) throws BackstoreException {
        BackstoreParameters.checkKnown(context.parameters(), KNOWN);
        String sizeText = context.parameters().get(SIZE);
        if (sizeText == null) {
            throw BackstoreParameters.invalid(SIZE + ": missing (expected: a number with optional K, M, G or T)");
        }
        int blockSize = BackstoreParameters.blockSize(context.parameter(BLOCK_SIZE, "512"));
        long size = BackstoreParameters.size(SIZE, sizeText);
        if (size % blockSize != 0) {
            throw BackstoreParameters.invalid(SIZE + ": " + sizeText + " (expected: a multiple of the block size " + blockSize + ")");
        }
        if (size > MAX_SIZE) {
            throw BackstoreParameters.invalid(SIZE + ": " + sizeText + " (expected: at most " + (MAX_SIZE >> 40) + "T)");
        }
        if (size > budget.max()) {
            // Thin, so allowed; but say so now rather than at the first failed write.
            LOG.warn("memory backstore {}: size {} is more than the memory budget of {} shared by all memory backstores "
                    + "({} free now): at most that much of it can be written; writes beyond fail with SPACE ALLOCATION "
                    + "FAILED (raise -D{} and -XX:MaxDirectMemorySize)", context.name(), MemoryBudget.format(size),
                    MemoryBudget.format(budget.max()), MemoryBudget.format(budget.free()), MAX_PROPERTY);
        }
        return new MemoryBackstore(context.name(), blockSize, size / blockSize, budget, allocator);
    }

    /** Bytes of chunk memory all backstores of this provider hold now. */
    long allocatedBytes() {
        return budget.used();
    }
}
