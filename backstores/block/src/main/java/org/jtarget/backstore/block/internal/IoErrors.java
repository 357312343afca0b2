package org.jtarget.backstore.block.internal;

import java.io.IOException;
import java.nio.file.Path;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;

/**
 * The sense an errno of the device stands for, as the file backstore answers (docs/faults.md), here from
 * the errno itself (every call goes through {@link LibC}):
 * EIO on a read: MEDIUM ERROR, UNRECOVERED READ ERROR; EIO elsewhere: MEDIUM ERROR, WRITE ERROR;
 * ENOSPC/EDQUOT on a write (a thin device, or a loop device whose backing file system is full): DATA PROTECT,
 * SPACE ALLOCATION FAILED WRITE PROTECT (SBC-4 4.7.3.6); EROFS, EPERM/EACCES on a write (the device was set
 * read-only): DATA PROTECT, WRITE PROTECTED; anything else: LOGICAL UNIT COMMUNICATION FAILURE.
 */
final class IoErrors {
    private static final int EPERM = 1;
    private static final int EACCES = 13;

    /** What the failed request was doing. */
    enum Op { READ, WRITE, FLUSH, UNMAP }

    private IoErrors() {
    }

    static SenseReason reason(Op op, IOException e) {
        int errno = e instanceof BlockDevice.ErrnoException n ? n.errno() : 0;
        boolean read = op == Op.READ;
        return switch (errno) {
            case LibC.EIO -> read ? SenseReason.UNRECOVERED_READ_ERROR : SenseReason.WRITE_ERROR;
            case LibC.ENOSPC, LibC.EDQUOT -> read ? SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE
                    : SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
            case LibC.EROFS, EPERM, EACCES -> read ? SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE
                    : SenseReason.WRITE_PROTECTED;
            default -> SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE;
        };
    }

    static BackstoreException failure(String name, Path path, Op op, long lba, IOException e) {
        return new BackstoreException(reason(op, e), "backstore " + name + ": " + op.name().toLowerCase(java.util.Locale.ROOT)
                + " at lba " + lba + " of " + path + " failed: " + e.getMessage(), e);
    }
}
