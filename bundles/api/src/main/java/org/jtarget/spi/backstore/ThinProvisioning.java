package org.jtarget.spi.backstore;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/** Optional part of a {@link Backstore} that can deallocate blocks (SBC-4 4.7: UNMAP, WRITE SAME with UNMAP). */
@ConsumerType
public interface ThinProvisioning {
    /**
     * Deallocates {@code blocks} blocks from {@code lba}. They read back as zeros afterwards when
     * {@link #readsZerosAfterUnmap()}; otherwise their contents are undefined until written again.
     */
    CompletionStage<Void> unmap(long lba, long blocks);

    /**
     * Whether a block deallocated by {@link #unmap} reads back as zeros (SBC-4 LBPRZ). When false (a plain
     * discard, an NBD TRIM) the core reports LBPRZ 0, answers WRITE SAME with UNMAP by writing the data
     * instead of deallocating, and offers no SANITIZE BLOCK ERASE.
     *
     * @since 2.1
     */
    default boolean readsZerosAfterUnmap() {
        return true;
    }

    /**
     * Whether the block at {@code lba} is mapped, and how many following blocks (up to the end of the
     * backstore) share that state. A backstore that cannot tell reports the rest as one mapped extent.
     *
     * @since 2.0 (asynchronous)
     */
    CompletionStage<Extent> extent(long lba);
}
