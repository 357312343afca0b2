package org.jtarget.spi.backstore;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/** Optional part of a {@link Backstore} that can deallocate blocks (SBC-4 4.7: UNMAP, WRITE SAME with UNMAP). */
@ConsumerType
public interface ThinProvisioning {
    /** Deallocates {@code blocks} blocks from {@code lba}; they read back as zeros afterwards. */
    CompletionStage<Void> unmap(long lba, long blocks);

    /**
     * Whether the block at {@code lba} is mapped, and how many following blocks (up to the end of the
     * backstore) share that state. A backstore that cannot tell reports the rest as one mapped extent.
     *
     * @since 2.0 (asynchronous)
     */
    CompletionStage<Extent> extent(long lba);
}
