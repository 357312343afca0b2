package org.jtarget.backstore.block.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The Linux calls Java 17 lacks, through JNA direct mapping (64-bit Linux, glibc): open(2) with
 * O_DIRECT and O_EXCL, pread/pwritev2 on memory addresses, fdatasync, the block-device ioctls, fallocate,
 * lseek SEEK_DATA/SEEK_HOLE and flock. Buffer addresses travel as {@code long} (a pointer on LP64).
 *
 * <p>{@code open}'s mode and {@code ioctl}'s argument are variadic in C; with integer and pointer
 * arguments the x86-64 and AArch64 calling conventions pass them as fixed arguments, which is what
 * these bindings rely on (no other platform is bound, see {@link #available()}).
 */
final class LibC {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_EXCL = 0x80;
    static final int O_CLOEXEC = 0x80000;
    /** 040000 on x86-64, 0200000 on AArch64 (asm-generic vs arch fcntl.h). */
    static final int O_DIRECT = "aarch64".equals(Platform.ARCH) ? 0x10000 : 0x4000;

    static final long BLKGETSIZE64 = 0x80081272L; // _IOR(0x12, 114, size_t)
    static final long BLKSSZGET = 0x1268; // _IO(0x12, 104): logical block size, int
    static final long BLKPBSZGET = 0x127b; // _IO(0x12, 123): physical block size, unsigned int
    static final long BLKDISCARD = 0x1277; // _IO(0x12, 119): uint64_t[2] {start, length}
    static final long BLKZEROOUT = 0x127f; // _IO(0x12, 127): uint64_t[2] {start, length}

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    static final int RWF_DSYNC = 0x02;
    static final int RWF_NOWAIT = 0x08;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;

    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;
    static final int EDQUOT = 122;

    private static final Throwable UNAVAILABLE;

    static {
        Throwable failure = null;
        if (!Platform.isLinux() || !Platform.is64Bit()
                || !("x86-64".equals(Platform.ARCH) || "aarch64".equals(Platform.ARCH))) {
            failure = new UnsupportedOperationException("64-bit Linux on x86-64 or aarch64 only, not "
                    + System.getProperty("os.name") + " " + Platform.ARCH);
        } else {
            try {
                Native.register(LibC.class, Platform.C_LIBRARY_NAME);
                Native.register(Quiet.class, Platform.C_LIBRARY_NAME);
            } catch (LinkageError | RuntimeException e) {
                failure = e;
            }
        }
        UNAVAILABLE = failure;
    }

    private LibC() {
    }

    /** Null when the bindings work here, else why not. */
    static Throwable available() {
        return UNAVAILABLE;
    }

    static native int open(String path, int flags, int mode) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native long pread(int fd, long buf, long count, long offset) throws LastErrorException;

    static native long pwrite(int fd, long buf, long count, long offset) throws LastErrorException;

    /** {@code iov} is one struct iovec: {base address, length}. */
    static native long pwritev2(int fd, long[] iov, int iovcnt, long offset, int flags) throws LastErrorException;

    static native int fdatasync(int fd) throws LastErrorException;

    /** syscall(2) with integer and pointer arguments: the native AIO calls, which glibc does not wrap ({@link Aio}). */
    static native long syscall(long number, long a, long b, long c, long d, long e) throws LastErrorException;

    /**
     * Calls whose failure is an expected answer (a page-cache miss), so they return -1 and leave errno to
     * {@link Native#getLastError()} instead of building an exception with its stack trace each time.
     */
    static final class Quiet {
        private Quiet() {
        }

        static native long preadv2(int fd, long[] iov, int iovcnt, long offset, int flags);
    }

    static native int ioctl(int fd, long request, long[] arg) throws LastErrorException;

    static native int ioctl(int fd, long request, int[] arg) throws LastErrorException;

    static native int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

    static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    static native int flock(int fd, int operation) throws LastErrorException;

    static native String strerror(int errnum);

    /** "No space left on device (errno 28)", never throwing. */
    static String describe(int errno) {
        String text;
        try {
            text = strerror(errno);
        } catch (LinkageError | RuntimeException e) {
            text = null;
        }
        return (text == null ? "error" : text) + " (errno " + errno + ")";
    }
}
