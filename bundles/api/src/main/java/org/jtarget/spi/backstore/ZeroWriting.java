package org.jtarget.spi.backstore;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Optional part of a {@link Backstore} that writes zeros without being sent them (Linux BLKZEROOUT, NBD
 * WRITE_ZEROES, deleting objects): WRITE SAME with a zero block uses it.
 *
 * @since 2.0
 */
@ConsumerType
public interface ZeroWriting {
    /**
     * Makes {@code blocks} blocks from {@code lba} read as zeros.
     *
     * @param mayDeallocate the blocks may be deallocated (WRITE SAME with UNMAP); false: they stay mapped
     * @param fua           the stage completes only once the zeros are on stable storage
     */
    CompletionStage<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean fua);
}
