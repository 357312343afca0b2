package org.jtarget.backstore.file.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Linux calls Java 17 lacks, through JNA: fallocate(2) hole punching and lseek(2) SEEK_DATA/SEEK_HOLE.
 * JNA is an optional import: only {@link #open} touches it, inside a catch of {@link LinkageError}, so the
 * bundle resolves and works without it (no thin provisioning then).
 *
 * <p>Uses its own descriptor on the file (the FileChannel's is not reachable without --add-opens); both
 * refer to the same inode. lseek moves this descriptor's offset, which nothing else reads, so concurrent
 * calls are safe.
 */
final class NativeFiles implements AutoCloseable {
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    /** glibc, x86_64/aarch64 Linux: off_t is 64 bits. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;
    }

    private final LibC libc;
    private final int fd;

    private NativeFiles(LibC libc, int fd) {
        this.libc = libc;
        this.fd = fd;
    }

    /**
     * Opens {@code path} for hole punching, probing that the file system supports it by punching beyond
     * {@code endOfData} (which changes nothing: KEEP_SIZE). Returns null when JNA, the platform or the
     * file system cannot punch holes.
     */
    static NativeFiles open(Path path, long endOfData) {
        try {
            if (!Platform.isLinux() || !Platform.is64Bit()) {
                return null;
            }
            LibC libc = Native.load("c", LibC.class);
            int fd = libc.open(path.toString(), O_RDWR | O_CLOEXEC);
            NativeFiles files = new NativeFiles(libc, fd);
            try {
                files.punchHole(endOfData, 4096);
                return files;
            } catch (IOException e) {
                files.close();
                return null;
            }
        } catch (LinkageError | LastErrorException e) {
            return null;
        }
    }

    /** Deallocates the range; partial file-system blocks at either end are zeroed by the kernel. */
    void punchHole(long offset, long length) throws IOException {
        try {
            libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
        } catch (LastErrorException e) {
            throw new IOException("fallocate(PUNCH_HOLE, " + offset + ", " + length + "): errno " + e.getErrorCode(), e);
        }
    }

    /** The first data offset at or after {@code offset}, or -1 when only a hole follows up to end of file. */
    long nextData(long offset) throws IOException {
        return seek(offset, SEEK_DATA);
    }

    /** The first hole offset at or after {@code offset} (end of file counts as a hole), or -1 past end of file. */
    long nextHole(long offset) throws IOException {
        return seek(offset, SEEK_HOLE);
    }

    private long seek(long offset, int whence) throws IOException {
        try {
            return libc.lseek(fd, offset, whence);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENXIO) {
                return -1;
            }
            throw new IOException("lseek(" + offset + ", " + whence + "): errno " + e.getErrorCode(), e);
        }
    }

    @Override
    public void close() {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            // nothing was written through this descriptor
        }
    }
}
