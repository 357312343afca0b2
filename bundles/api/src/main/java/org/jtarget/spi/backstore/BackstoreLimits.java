package org.jtarget.spi.backstore;

/**
 * What a backstore can transfer at once and what it prefers, in logical blocks. The core reports these
 * in the Block Limits VPD page (SBC-4 6.6.4) and refuses larger transfers with INVALID FIELD IN CDB.
 *
 * @param maxTransferBytes       largest READ/WRITE in bytes (MAXIMUM TRANSFER LENGTH); at least one block
 * @param optimalTransferBytes   transfer size that performs best (OPTIMAL TRANSFER LENGTH), 0 for none
 * @param optimalGranularityBytes alignment that performs best (OPTIMAL TRANSFER LENGTH GRANULARITY), 0 for
 *                               one physical block; e.g. an object store's object size
 * @param maxUnmapBytes          largest range one UNMAP descriptor may deallocate, 0 for no limit
 * @param unmapGranularityBytes  deallocation granularity (OPTIMAL UNMAP GRANULARITY), 0 for one block
 * @param maxAtomicBytes         largest write the backstore keeps whole even when the target process is killed
 *                               or the machine loses power: afterwards all of it is read back or none of it
 *                               (SBC-4 atomic writes, MAXIMUM ATOMIC TRANSFER LENGTH; what databases use to skip
 *                               their torn-write protection). 0 when the backstore cannot promise that: WRITE
 *                               ATOMIC is then not offered. Every write is whole to other commands anyway (the
 *                               core's gate); this is about crashes. A store whose data do not outlive the
 *                               process (memory) may declare its maximum transfer
 * @since 2.0
 */
public record BackstoreLimits(long maxTransferBytes, long optimalTransferBytes, long optimalGranularityBytes,
                              long maxUnmapBytes, long unmapGranularityBytes, long maxAtomicBytes) {
    /**
     * 64 MiB transfers, 8 MiB optimal, no atomic writes: a local file. Until 2.2 this declared atomic writes up to
     * 64 MiB, which no file or remote store keeps whole across a crash.
     */
    public static final BackstoreLimits DEFAULT = new BackstoreLimits(64L << 20, 8L << 20, 0, 0, 0, 0);

    public BackstoreLimits {
        if (maxTransferBytes < 512 || maxTransferBytes > (1L << 30)) {
            throw new IllegalArgumentException("maxTransferBytes: 512 B to 1 GiB: " + maxTransferBytes);
        }
        if (optimalTransferBytes < 0 || optimalTransferBytes > maxTransferBytes) {
            throw new IllegalArgumentException("optimalTransferBytes: 0 to maxTransferBytes: " + optimalTransferBytes);
        }
        if (optimalGranularityBytes < 0 || maxUnmapBytes < 0 || unmapGranularityBytes < 0) {
            throw new IllegalArgumentException("granularities and maxUnmapBytes must not be negative");
        }
        if (maxAtomicBytes < 0 || maxAtomicBytes > maxTransferBytes) {
            throw new IllegalArgumentException("maxAtomicBytes: 0 to maxTransferBytes: " + maxAtomicBytes);
        }
    }

    public BackstoreLimits withMaxTransferBytes(long v) {
        return new BackstoreLimits(v, Math.min(optimalTransferBytes, v), optimalGranularityBytes, maxUnmapBytes,
                unmapGranularityBytes, Math.min(maxAtomicBytes, v));
    }

    public BackstoreLimits withOptimalTransferBytes(long v) {
        return new BackstoreLimits(maxTransferBytes, v, optimalGranularityBytes, maxUnmapBytes,
                unmapGranularityBytes, maxAtomicBytes);
    }

    public BackstoreLimits withOptimalGranularityBytes(long v) {
        return new BackstoreLimits(maxTransferBytes, optimalTransferBytes, v, maxUnmapBytes,
                unmapGranularityBytes, maxAtomicBytes);
    }

    public BackstoreLimits withUnmap(long maxBytes, long granularityBytes) {
        return new BackstoreLimits(maxTransferBytes, optimalTransferBytes, optimalGranularityBytes, maxBytes,
                granularityBytes, maxAtomicBytes);
    }

    public BackstoreLimits withMaxAtomicBytes(long v) {
        return new BackstoreLimits(maxTransferBytes, optimalTransferBytes, optimalGranularityBytes, maxUnmapBytes,
                unmapGranularityBytes, v);
    }
}
