package org.jtarget.backstore.file.internal;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.HashMap;
import java.util.Map;
import org.jtarget.scsi.SenseReason;

/**
 * The sense an I/O failure of the image file stands for (the table in docs/faults.md).
 *
 * <p>Java reports a failed read(2), write(2), fsync(2) as a plain {@link IOException} whose message is
 * {@code strerror(errno)} (JDK: JNU_ThrowIOExceptionWithLastError); errno itself is not exposed. So the errno
 * is recovered from the message, compared with glibc's English texts and, when JNA is present, with this
 * process's own {@code strerror()} (the texts follow LC_MESSAGES). Calls made through JNA ({@link NativeFiles})
 * carry the errno itself ({@link ErrnoException}). Free space ({@code FileStore.getUsableSpace}) is no
 * substitute: it races with other writers and knows nothing of quotas.
 *
 * <ul>
 *   <li>ENOSPC, EDQUOT on a write, flush or unmap: DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT
 *       (27h/07h). A file LU is thin (its file is sparse), and SBC-4 4.7.3.6 says a thin LU that cannot
 *       allocate space for a write terminates it with this sense; the memory backstore answers the same.
 *       Initiators know it (qemu: ENOSPC; VMware pauses the VM) and do not retry it blindly.
 *       LIO's fileio answers LOGICAL UNIT COMMUNICATION FAILURE for every failed write instead
 *       (target_core_file.c fd_execute_rw_buffered), which initiators retry while the disk stays full.</li>
 *   <li>EIO on a read: MEDIUM ERROR, UNRECOVERED READ ERROR (03h/11h/00h, SPC-4 annex D); on a write,
 *       flush or unmap: MEDIUM ERROR, WRITE ERROR (03h/0Ch/00h).</li>
 *   <li>EROFS on a write (the file system was remounted read-only, e.g. ext4 errors=remount-ro):
 *       DATA PROTECT, WRITE PROTECTED (27h/00h).</li>
 *   <li>A closed channel, and any other error: NOT READY, LOGICAL UNIT COMMUNICATION FAILURE (08h/00h),
 *       what the core answers for any failure without a sense of its own; initiators retry it.</li>
 * </ul>
 */
final class IoFailures {
    static final int EIO = 5;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int EDQUOT = 122;

    /** What the failed call was doing. */
    enum Op { READ, WRITE, FLUSH, UNMAP }

    /** strerror texts of the errnos this class tells apart, in English and in this process's locale. */
    private static final Map<String, Integer> BY_MESSAGE = messages();

    private IoFailures() {
    }

    static SenseReason reason(Op op, IOException e) {
        if (e instanceof ClosedChannelException) {
            return SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE;
        }
        int errno = errno(e);
        boolean read = op == Op.READ;
        return switch (errno) {
            case ENOSPC, EDQUOT -> read ? SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE
                    : SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
            case EIO -> read ? SenseReason.UNRECOVERED_READ_ERROR : SenseReason.WRITE_ERROR;
            case EROFS -> read ? SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE : SenseReason.WRITE_PROTECTED;
            default -> SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE;
        };
    }

    /** The errno behind {@code e}, or 0 when it cannot be told. */
    static int errno(IOException e) {
        if (e instanceof ErrnoException ee) {
            return ee.errno();
        }
        String message = e.getMessage();
        if (message == null) {
            return 0;
        }
        return BY_MESSAGE.getOrDefault(message.strip(), 0);
    }

    private static Map<String, Integer> messages() {
        Map<String, Integer> m = new HashMap<>();
        m.put("Input/output error", EIO); // glibc's texts (string/_strerror.c, errlist)
        m.put("No space left on device", ENOSPC);
        m.put("Read-only file system", EROFS);
        m.put("Disk quota exceeded", EDQUOT);
        for (int errno : new int[] {EIO, ENOSPC, EROFS, EDQUOT}) {
            String local;
            try {
                local = NativeFiles.strerror(errno);
            } catch (LinkageError e) {
                break; // JNA absent: the English texts only
            }
            if (local != null && !local.isBlank()) {
                m.putIfAbsent(local.strip(), errno);
            }
        }
        return Map.copyOf(m);
    }

    /** A failed native call with its errno (what Java's own I/O exceptions do not carry). */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        ErrnoException(String message, int errno, Throwable cause) {
            super(message + ": errno " + errno, cause);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }
}
