package org.jtarget.backstore.file.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Linux calls Java 17 lacks, through JNA: fallocate(2) hole punching and lseek(2) SEEK_DATA/SEEK_HOLE.
 * JNA is an optional import: only {@link #forFile} touches it first, and the caller catches
 * {@link LinkageError}, so the bundle resolves and works without it (no thin provisioning then).
 *
 * <p>Each call opens its own descriptor on the path (the FileChannel's is not reachable without
 * --add-opens) and closes it again: UNMAP and GET LBA STATUS are rare next to reads and writes, and an
 * instance with 10,000 file backstores should not hold 10,000 more descriptors. The descriptors refer to
 * the same inode as the channel.
 */
final class NativeFiles {
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    /** glibc, 64-bit Linux: off_t is 64 bits. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        String strerror(int errnum);
    }

    /** Bound once per bundle class loader, on first use. */
    private static final class Binding {
        static final LibC LIBC = Platform.isLinux() && Platform.is64Bit() ? Native.load("c", LibC.class) : null;
    }

    private final LibC libc;
    private final Path path;

    private NativeFiles(LibC libc, Path path) {
        this.libc = libc;
        this.path = path;
    }

    /**
     * This process's text for {@code errno} (what Java puts in an IOException's message), or null without
     * JNA or off Linux. Never throws.
     */
    static String strerror(int errno) {
        try {
            LibC libc = Binding.LIBC;
            return libc == null ? null : libc.strerror(errno);
        } catch (LinkageError | RuntimeException e) {
            return null; // JNA absent (optional import) or its native part missing
        }
    }

    /**
     * Hole punching for {@code path}, after probing that its file system supports it by punching beyond
     * {@code endOfData} (which changes nothing: KEEP_SIZE). Null when JNA's native part, the platform or
     * the file system cannot punch holes.
     */
    static NativeFiles forFile(Path path, long endOfData) {
        try {
            LibC libc = Binding.LIBC;
            if (libc == null) {
                return null;
            }
            NativeFiles files = new NativeFiles(libc, path);
            files.punchHole(endOfData, 4096);
            return files;
        } catch (IOException | LastErrorException | UnsatisfiedLinkError e) {
            return null;
        }
    }

    /** Deallocates the range; partial file-system blocks at either end are zeroed by the kernel. */
    void punchHole(long offset, long length) throws IOException {
        int fd = open();
        try {
            libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
        } catch (LastErrorException e) {
            throw new IoFailures.ErrnoException("fallocate(PUNCH_HOLE, " + offset + ", " + length + ")", e.getErrorCode(), e);
        } finally {
            close(fd);
        }
    }

    /**
     * Where data and holes lie from {@code offset}: {@code [nextData, nextHole]}, where nextData is -1
     * when only a hole follows up to end of file, and nextHole (end of file counts as a hole) is looked
     * up only when data starts at {@code offset}.
     */
    long[] dataAndHole(long offset) throws IOException {
        int fd = open();
        try {
            long data = seek(fd, offset, SEEK_DATA);
            long hole = data == offset ? seek(fd, offset, SEEK_HOLE) : -1;
            return new long[] {data, hole};
        } finally {
            close(fd);
        }
    }

    private int open() throws IOException {
        try {
            return libc.open(path.toString(), O_RDWR | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IoFailures.ErrnoException("open(" + path + ")", e.getErrorCode(), e);
        }
    }

    private void close(int fd) {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            // nothing was written through this descriptor
        }
    }

    private long seek(int fd, long offset, int whence) throws IOException {
        try {
            return libc.lseek(fd, offset, whence);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENXIO) {
                return -1;
            }
            throw new IoFailures.ErrnoException("lseek(" + offset + ", " + whence + ")", e.getErrorCode(), e);
        }
    }
}
