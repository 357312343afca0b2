package org.jtarget.spi.backstore;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/** Optional part of a {@link Backstore} that can deallocate blocks (SBC-4 4.7: UNMAP, WRITE SAME with UNMAP). */
@ConsumerType
public interface ThinProvisioning {
    /** Deallocates {@code blocks} blocks from {@code lba}; they read back as zeros afterwards. */
    CompletionStage<Void> unmap(long lba, long blocks);

    /**
     * Whether the block at {@code lba} is mapped, and how many following blocks share that state
     * (for GET LBA STATUS). A backstore that cannot tell reports everything as mapped.
     *
     * @return the extent length in blocks, negative when the extent is deallocated
     */
    long extent(long lba);
}
