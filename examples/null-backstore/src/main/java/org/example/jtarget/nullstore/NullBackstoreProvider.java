package org.example.jtarget.nullstore;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.Completions;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Component;

/**
 * Backstore type {@code null}: a LUN of {@code size} bytes that discards every write and reads zeros, as
 * LIO's {@code rd_nullio} and tgt's {@code null} backing store. It stores nothing, so it measures a fabric
 * and the core alone.
 *
 * <p>Declarative Services registers this class as a {@link BackstoreProvider} service with the property
 * {@code backstore.type=null} when the bundle starts, and unregisters it when the bundle stops: the core
 * finds it on the service whiteboard ({@code backstore:types} lists it) and, when it leaves, takes the
 * LUNs of its objects offline until it returns.
 */
@Component(service = BackstoreProvider.class, property = BackstoreProvider.TYPE_PROPERTY + "=" + NullBackstoreProvider.TYPE)
public final class NullBackstoreProvider implements BackstoreProvider {
    static final String TYPE = "null";
    static final String SIZE = "size";
    static final String BLOCK_SIZE = "block_size";
    private static final Set<String> KNOWN = Set.of(SIZE, BLOCK_SIZE);
    private static final List<ParameterDescriptor> PARAMETERS = List.of(
            new ParameterDescriptor(SIZE, "capacity with suffix K, M, G or T (nothing is stored)", true, null),
            new ParameterDescriptor(BLOCK_SIZE, "logical block size: 512 or 4096", false, "512"));

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public List<ParameterDescriptor> parameters() {
        return PARAMETERS;
    }

    /** Opens at once: nothing to wait for, so the stage is complete when it is returned. */
    @Override
    public CompletionStage<Backstore> open(BackstoreContext context) {
        return Completions.now(() -> openNow(context));
    }

    private static Backstore openNow(BackstoreContext context) throws BackstoreException {
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
        return new NullBackstore(blockSize, size / blockSize);
    }
    // destroy(): the default (keep the data) is right: there is none.
}
