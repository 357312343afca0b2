package org.jtarget.backstore.memory.internal;

import java.util.List;
import java.util.Set;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Component;

/**
 * Backstore type {@code memory}: a RAM disk, empty (all zeros) at every open. Its content is lost when
 * the object closes, including when this bundle is stopped or updated; only its parameters persist.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=memory")
public final class MemoryBackstoreProvider implements BackstoreProvider {
    static final String SIZE = "size";
    static final String BLOCK_SIZE = "block_size";
    private static final Set<String> KNOWN = Set.of(SIZE, BLOCK_SIZE);
    /** 2^31 chunks of 1 MiB: the chunk table is indexed by int. */
    private static final long MAX_SIZE = (long) (Integer.MAX_VALUE - 8) << MemoryBackstore.CHUNK_SHIFT;
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(SIZE, "capacity with suffix K, M, G or T; memory is used only as blocks are written",
                    true, null),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096", false, "512"));

    @Override
    public String type() {
        return "memory";
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    @Override
    public Backstore open(BackstoreContext context) throws BackstoreException {
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
        return new MemoryBackstore(context.name(), blockSize, size / blockSize);
    }
}
