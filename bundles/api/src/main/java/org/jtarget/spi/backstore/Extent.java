package org.jtarget.spi.backstore;

/**
 * A run of blocks with one allocation state, for GET LBA STATUS (SBC-4 5.8) and NBD's base:allocation.
 *
 * @param blocks the number of blocks from the queried LBA that share the state; at least 1
 * @param mapped whether they are mapped (false: deallocated, reading as zeros)
 * @since 2.0
 */
public record Extent(long blocks, boolean mapped) {
    public Extent {
        if (blocks < 1) {
            throw new IllegalArgumentException("blocks must be at least 1: " + blocks);
        }
    }
}
