package org.jtarget.backstore.block.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.BackstoreParameters;

/**
 * One open descriptor of a block device (or a regular file opened the same way) and what the kernel told
 * about it. Every method that performs I/O blocks: callers run them on the backstore's pool.
 *
 * <p>Opening: {@code O_RDWR | O_CLOEXEC | O_EXCL | O_DIRECT}. On a block device O_EXCL without O_CREAT
 * claims it exclusively (open(2): EBUSY when it is mounted or claimed by device-mapper, md, swap or another
 * exclusive opener), so nobody mounts it while it is served. A regular file gets flock(LOCK_EX) instead.
 * O_DIRECT is dropped when the file system refuses it (EINVAL) or a first aligned read fails with EINVAL
 * (a device whose DMA alignment exceeds the block size); then writes go through the page cache, which the
 * write cache bit reports.
 */
final class BlockDevice {
    /** Memory alignment of every buffer handed to pread/pwrite: a page, enough for any device. */
    static final int MEMORY_ALIGNMENT = 4096;

    final Path path;
    final boolean blockDevice;
    final boolean direct;
    final int blockSize;
    final int physicalBlockSize;
    final long blockCount;
    final boolean writeCache;
    /** How UNMAP deallocates, if at all. */
    final Unmap unmap;
    /** Zeroing without sending zeros (BLKZEROOUT on a device, fallocate ZERO_RANGE on a file). */
    final boolean zeroOut;
    final BackstoreLimits limits;
    /** Requests the device's queue holds ({@code nr_requests}; 0 unknown, a regular file): more would wait in io_submit. */
    final int queueRequests;
    final String facts;
    private final int fd;
    /** Whether RWF_NOWAIT reads are worth trying (cleared when the kernel refuses them). */
    private volatile boolean noWait = true;

    private BlockDevice(Path path, int fd, boolean blockDevice, boolean direct, int blockSize, int physicalBlockSize,
                        long blockCount, boolean writeCache, Unmap unmap, boolean zeroOut,
                        BackstoreLimits limits, int queueRequests, String facts) {
        this.path = path;
        this.fd = fd;
        this.blockDevice = blockDevice;
        this.direct = direct;
        this.blockSize = blockSize;
        this.physicalBlockSize = physicalBlockSize;
        this.blockCount = blockCount;
        this.writeCache = writeCache;
        this.unmap = unmap;
        this.zeroOut = zeroOut;
        this.limits = limits;
        this.queueRequests = queueRequests;
        this.facts = facts;
    }

    /** How UNMAP deallocates. */
    enum Unmap {
        /** Not offered. */
        NONE,
        /**
         * fallocate(PUNCH_HOLE): on a block device the kernel's zeroing deallocation (REQ_OP_WRITE_ZEROES
         * that may unmap: SCSI WRITE SAME with UNMAP, NVMe Write Zeroes with DEAC), so the blocks read back
         * as zeros (LBPRZ 1); on a loop device and a regular file a hole in the file.
         */
        ZEROES,
        /** BLKDISCARD: a plain discard (SCSI UNMAP, ATA TRIM, NVMe Deallocate); reads after it are undefined (LBPRZ 0). */
        DISCARD
    }

    /** The choices of the {@code unmap} parameter. */
    static final List<String> UNMAP_CHOICES = List.of("auto", "zeroes", "discard", "off");

    /**
     * Opens {@code path} (links resolved) for serving.
     *
     * @param blockSizeParameter the user's block_size, or null for the device's (512 for a regular file)
     * @param wantDirect         O_DIRECT when the device allows it; false: through the page cache
     * @param unmapChoice        one of {@link #UNMAP_CHOICES}: auto takes zeroes where the device can, else discard
     */
    static BlockDevice open(String parameter, Path path, String blockSizeParameter, boolean wantDirect,
                            String unmapChoice, Sysfs sysfs) throws BackstoreException {
        Throwable unavailable = LibC.available();
        if (unavailable != null) {
            throw new BackstoreException(org.jtarget.scsi.SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                    parameter + ": " + path + " (native calls unavailable: " + unavailable + ")");
        }
        Path real;
        Map<String, Object> attributes;
        try {
            real = path.toRealPath();
            attributes = Files.readAttributes(real, "unix:mode,rdev,size");
        } catch (java.nio.file.NoSuchFileException e) {
            throw BackstoreParameters.invalid(parameter + ": " + path + " (does not exist; expected: a block device)");
        } catch (IOException e) {
            throw BackstoreParameters.invalid(parameter + ": " + path + " (cannot be read: " + e.getMessage()
                    + "; expected: a block device)");
        }
        int type = (Integer) attributes.get("mode") & 0170000;
        boolean block = type == 0060000;
        if (!block && type != 0100000) {
            throw BackstoreParameters.invalid(parameter + ": " + path + " (expected: a block device or a regular file)");
        }
        String majorMinor = block ? Sysfs.majorMinor((Long) attributes.get("rdev")) : null;
        if (block) {
            refuseIfUsed(parameter, real, majorMinor, sysfs);
        }
        int fd = openDescriptor(parameter, real, block, majorMinor, sysfs, wantDirect);
        boolean direct = wantDirect && fd >= 0;
        try {
            if (fd < 0) { // O_DIRECT refused
                fd = openDescriptor(parameter, real, block, majorMinor, sysfs, false);
            }
            Geometry geometry = geometry(parameter, real, fd, block, blockSizeParameter, attributes);
            if (direct && !directReadWorks(fd, geometry.blockSize)) {
                closeQuietly(fd); // the exclusive claim lapses for a moment: reopening may meet another user
                fd = -1;
                fd = openDescriptor(parameter, real, block, majorMinor, sysfs, false);
                direct = false;
            }
            return describe(real, fd, direct, block, majorMinor, geometry, unmapChoice, sysfs);
        } catch (BackstoreException | RuntimeException e) {
            if (fd >= 0) {
                closeQuietly(fd);
            }
            throw e;
        }
    }

    private static void refuseIfUsed(String parameter, Path real, String majorMinor, Sysfs sysfs)
            throws BackstoreException {
        List<String> users = sysfs.users(majorMinor, real);
        if (!users.isEmpty()) {
            throw BackstoreParameters.invalid(parameter + ": " + real + " (in use: " + String.join(", ", users)
                    + "; expected: a device nobody else uses)");
        }
    }

    /** The descriptor; -1 when {@code direct} and O_DIRECT is refused (EINVAL). */
    private static int openDescriptor(String parameter, Path real, boolean block, String majorMinor, Sysfs sysfs,
                                      boolean direct) throws BackstoreException {
        int flags = LibC.O_RDWR | LibC.O_CLOEXEC | (block ? LibC.O_EXCL : 0) | (direct ? LibC.O_DIRECT : 0);
        int fd;
        try {
            fd = LibC.open(real.toString(), flags, 0);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == LibC.EINVAL && direct) {
                return -1;
            }
            if (errno == LibC.EBUSY) {
                refuseIfUsed(parameter, real, majorMinor, sysfs);
                throw BackstoreParameters.invalid(parameter + ": " + real + " (in use: opened exclusively by another"
                        + " program, e.g. a file system, LVM, md or another target; expected: a device nobody else uses)");
            }
            throw BackstoreParameters.invalid(parameter + ": " + real + " (cannot open for reading and writing: "
                    + LibC.describe(errno) + ")");
        }
        if (!block) {
            try {
                LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB);
            } catch (LastErrorException e) {
                closeQuietly(fd);
                throw BackstoreParameters.invalid(parameter + ": " + real + " (in use: locked by another backstore or"
                        + " program; expected: a file nobody else uses)");
            }
        }
        return fd;
    }

    /** Bytes, physical block size and the block size served. */
    private record Geometry(long bytes, int physical, int blockSize) {
        long blockCount() {
            return bytes / blockSize;
        }
    }

    private static Geometry geometry(String parameter, Path real, int fd, boolean block, String blockSizeParameter,
                                     Map<String, Object> attributes) throws BackstoreException {
        int deviceBlockSize;
        int physical;
        long bytes;
        try {
            if (block) {
                long[] size = new long[1];
                LibC.ioctl(fd, LibC.BLKGETSIZE64, size);
                int[] logical = new int[1];
                LibC.ioctl(fd, LibC.BLKSSZGET, logical);
                int[] pbs = new int[1];
                LibC.ioctl(fd, LibC.BLKPBSZGET, pbs);
                bytes = size[0];
                deviceBlockSize = logical[0];
                physical = pbs[0];
            } else {
                bytes = (Long) attributes.get("size");
                deviceBlockSize = 512;
                physical = 512;
            }
        } catch (LastErrorException e) {
            throw BackstoreParameters.invalid(parameter + ": " + real + " (cannot read its size: "
                    + LibC.describe(e.getErrorCode()) + ")");
        }
        int blockSize;
        if (blockSizeParameter == null) {
            if (deviceBlockSize != 512 && deviceBlockSize != 4096) {
                throw BackstoreParameters.invalid(parameter + ": " + real + " (logical block size " + deviceBlockSize
                        + "; expected: 512 or 4096)");
            }
            blockSize = deviceBlockSize;
        } else {
            blockSize = BackstoreParameters.blockSize(blockSizeParameter);
            if (blockSize < deviceBlockSize) {
                throw BackstoreParameters.invalid("block_size: " + blockSize + " (expected: at least the logical block"
                        + " size " + deviceBlockSize + " of " + real + ")");
            }
        }
        if (bytes / blockSize == 0) {
            throw BackstoreParameters.invalid(parameter + ": " + real + " (" + bytes + " bytes; expected: at least one"
                    + " block of " + blockSize + ")");
        }
        return new Geometry(bytes, physical, blockSize);
    }

    private static BlockDevice describe(Path real, int fd, boolean direct, boolean block, String majorMinor,
                                        Geometry g, String unmapChoice, Sysfs sysfs) throws BackstoreException {
        Path queue = block ? Sysfs.queueDir(sysfs.deviceDir(majorMinor)) : null;
        int blockSize = g.blockSize;
        int physical = g.physical;
        long bytes = g.bytes;
        long blockCount = g.blockCount();
        boolean deviceWriteBack = !block || !"write through".equals(Sysfs.text(queue, "write_cache"));
        boolean punch;
        boolean discard;
        boolean zero;
        if (block) {
            // Write zeroes (REQ_OP_WRITE_ZEROES) is what makes a deallocation read back as zeros (fallocate
            // PUNCH_HOLE on a block device: blkdev_issue_zeroout with NOFALLBACK), and BLKZEROOUT cheap.
            boolean writeZeroes = Sysfs.number(queue, "write_zeroes_max_bytes", 0) > 0;
            discard = Sysfs.number(queue, "discard_max_bytes", 0) > 0;
            punch = writeZeroes && discard;
            zero = writeZeroes;
        } else {
            long beyond = (bytes + 4095) & ~4095L; // probing past the end changes nothing (KEEP_SIZE)
            punch = fallocateWorks(fd, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, beyond);
            discard = false; // BLKDISCARD is a block device's
            zero = fallocateWorks(fd, LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE, beyond);
        }
        Unmap unmap = unmap(unmapChoice, real, block, punch, discard);
        BackstoreLimits limits = limits(queue, blockSize, physical, unmap != Unmap.NONE);
        String facts = (block ? "block device " + majorMinor : "regular file") + ", " + blockCount + " blocks of "
                + blockSize + " (physical " + physical + "), " + (direct ? "O_DIRECT" : "buffered (O_DIRECT refused)")
                + ", write cache " + (direct && !deviceWriteBack ? "off (device writes through)" : "on")
                + ", unmap " + switch (unmap) {
                    case ZEROES -> "reading back zeros (fallocate PUNCH_HOLE)";
                    case DISCARD -> "by discard (BLKDISCARD; LBPRZ 0)";
                    case NONE -> "no";
                } + ", zero-out " + (zero ? "yes" : "no");
        return new BlockDevice(real, fd, block, direct, blockSize, physical, blockCount,
                !direct || deviceWriteBack, unmap, zero, limits,
                block ? (int) Math.min(Integer.MAX_VALUE, Sysfs.number(queue, "nr_requests", 0)) : 0, facts);
    }

    /** The {@code unmap} parameter against what the device can do; a choice it cannot honour is refused. */
    static Unmap unmap(String choice, Path real, boolean block, boolean punch, boolean discard)
            throws BackstoreException {
        String c = choice == null ? "auto" : choice.trim();
        String why = null; // what the device lacks for a known choice; null for an unknown one
        switch (c) {
            case "auto":
                return punch ? Unmap.ZEROES : discard ? Unmap.DISCARD : Unmap.NONE;
            case "off":
                return Unmap.NONE;
            case "zeroes":
                if (punch) {
                    return Unmap.ZEROES;
                }
                why = block ? real + " cannot deallocate and read back zeros (needs discard_max_bytes and"
                        + " write_zeroes_max_bytes above 0)" : real + " refuses fallocate PUNCH_HOLE";
                break;
            case "discard":
                if (discard) {
                    return Unmap.DISCARD;
                }
                why = block ? real + " has no discard (discard_max_bytes 0)" : real + " is a regular file, and"
                        + " BLKDISCARD is for block devices";
                break;
            default:
                break;
        }
        throw BackstoreParameters.invalid("unmap: " + c + " (expected: " + String.join(", ", UNMAP_CHOICES)
                + (why == null ? "" : "; " + why) + ")");
    }

    /** An aligned one-block read at 0: EINVAL means this device wants a larger alignment than we give. */
    private static boolean directReadWorks(int fd, int blockSize) {
        try (Memory memory = new Memory(blockSize + MEMORY_ALIGNMENT)) {
            long address = com.sun.jna.Pointer.nativeValue(memory.align(MEMORY_ALIGNMENT));
            LibC.pread(fd, address, blockSize, 0);
            return true;
        } catch (LastErrorException e) {
            return e.getErrorCode() != LibC.EINVAL;
        }
    }

    private static boolean fallocateWorks(int fd, int mode, long beyond) {
        try {
            LibC.fallocate(fd, mode, beyond, 4096);
            return true;
        } catch (LastErrorException e) {
            return false;
        }
    }

    /**
     * Block Limits from the queue: optimal transfer from optimal_io_size, else max_sectors_kb (what the
     * kernel sends in one request); granularity from minimum_io_size / the physical block; unmap from
     * discard_max_bytes and discard_granularity. The maximum transfer stays the default: the kernel splits
     * larger requests itself. No write is reported atomic (WRITE ATOMIC is not offered), even where the device
     * has atomic_write_max_bytes (Linux 6.11): the device keeps a write whole only when it is submitted as one
     * (pwritev2 RWF_ATOMIC, a power-of-two length aligned to itself), and the SPI's write does not say which
     * writes must be; a plain pwrite may be split.
     */
    static BackstoreLimits limits(Path queue, int blockSize, int physical, boolean unmap) {
        BackstoreLimits d = BackstoreLimits.DEFAULT;
        long max = d.maxTransferBytes();
        long optimal = Sysfs.number(queue, "optimal_io_size", 0);
        if (optimal <= 0) {
            optimal = Sysfs.number(queue, "max_sectors_kb", 0) * 1024;
        }
        optimal = optimal <= 0 ? d.optimalTransferBytes() : Math.min(max, optimal - optimal % blockSize);
        long granularity = Math.max(physical, Sysfs.number(queue, "minimum_io_size", 0));
        granularity = granularity > blockSize ? granularity - granularity % blockSize : 0;
        long maxUnmap = 0;
        long unmapGranularity = 0;
        if (unmap) {
            long discardMax = Sysfs.number(queue, "discard_max_bytes", 0);
            maxUnmap = queue == null ? 0 : discardMax - discardMax % blockSize;
            long g = Sysfs.number(queue, "discard_granularity", 0);
            unmapGranularity = g > blockSize ? g - g % blockSize : 0;
        }
        return new BackstoreLimits(max, optimal, granularity, Math.max(0, maxUnmap), unmapGranularity, 0);
    }

    /** The open descriptor (for {@link Aio}; closed by {@link #close()}). */
    int fd() {
        return fd;
    }

    /** Reads {@code length} bytes at {@code offset} into the memory at {@code address} (aligned when direct). */
    void read(long address, int length, long offset) throws IOException {
        int done = 0;
        while (done < length) {
            long n;
            try {
                n = LibC.pread(fd, address + done, length - done, offset + done);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == LibC.EINTR) {
                    continue;
                }
                throw new ErrnoException("pread(" + (offset + done) + ", " + (length - done) + ")", e.getErrorCode());
            }
            if (n == 0) {
                throw new ErrnoException("pread(" + (offset + done) + "): end of " + path, LibC.EIO);
            }
            done += (int) n;
        }
    }

    /**
     * Reads from the page cache without waiting (preadv2 RWF_NOWAIT): true when all {@code length} bytes were
     * there; false when any would need the device (EAGAIN), or the kernel cannot tell (then never again).
     * Only for a descriptor without O_DIRECT, whose direct reads always wait for the device.
     */
    boolean readCached(long address, int length, long offset) {
        if (direct || !noWait) {
            return false;
        }
        long n = LibC.Quiet.preadv2(fd, new long[] {address, length}, 1, offset, LibC.RWF_NOWAIT);
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == LibC.EOPNOTSUPP || errno == LibC.ENOSYS) {
                noWait = false; // the kernel cannot tell: the pool reads from now on
            } // EAGAIN: not all in the page cache; anything else the pool's read reports
        }
        return n == length;
    }

    /** Writes {@code length} bytes; {@code dsync}: durable before returning (RWF_DSYNC: FUA when the device has it). */
    void write(long address, int length, long offset, boolean dsync) throws IOException {
        int done = 0;
        boolean flushAfter = false;
        while (done < length) {
            long n;
            try {
                if (dsync && !flushAfter) {
                    n = LibC.pwritev2(fd, new long[] {address + done, length - done}, 1, offset + done, LibC.RWF_DSYNC);
                } else {
                    n = LibC.pwrite(fd, address + done, length - done, offset + done);
                }
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == LibC.EINTR) {
                    continue;
                }
                if (dsync && (errno == LibC.EOPNOTSUPP || errno == LibC.ENOSYS)) {
                    flushAfter = true; // kernel before 4.7: plain write, then fdatasync
                    continue;
                }
                throw new ErrnoException("pwrite(" + (offset + done) + ", " + (length - done) + ")", errno);
            }
            done += (int) n;
        }
        if (flushAfter) {
            flush();
        }
    }

    /** fdatasync: on a block device, writes back its page cache and flushes the device's volatile cache. */
    void flush() throws IOException {
        try {
            LibC.fdatasync(fd);
        } catch (LastErrorException e) {
            throw new ErrnoException("fdatasync", e.getErrorCode());
        }
    }

    /** Deallocates; the range reads back as zeros. */
    void punchHole(long offset, long length) throws IOException {
        fallocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /** Discards the range (BLKDISCARD): deallocated, contents undefined until written. */
    void discard(long offset, long length) throws IOException {
        try {
            LibC.ioctl(fd, LibC.BLKDISCARD, new long[] {offset, length});
        } catch (LastErrorException e) {
            throw new ErrnoException("ioctl(BLKDISCARD, " + offset + ", " + length + ")", e.getErrorCode());
        }
    }

    /** Zeros the range, keeping it allocated: BLKZEROOUT on a device, fallocate ZERO_RANGE on a file. */
    void zeroOut(long offset, long length) throws IOException {
        if (!blockDevice) {
            fallocate(LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE, offset, length);
            return;
        }
        try {
            LibC.ioctl(fd, LibC.BLKZEROOUT, new long[] {offset, length});
        } catch (LastErrorException e) {
            throw new ErrnoException("ioctl(BLKZEROOUT, " + offset + ", " + length + ")", e.getErrorCode());
        }
    }

    private void fallocate(int mode, long offset, long length) throws IOException {
        try {
            LibC.fallocate(fd, mode, offset, length);
        } catch (LastErrorException e) {
            throw new ErrnoException("fallocate(" + mode + ", " + offset + ", " + length + ")", e.getErrorCode());
        }
    }

    /**
     * {@code [nextData, nextHole]} from {@code offset} (lseek SEEK_DATA/SEEK_HOLE) in a regular file; nextData
     * is -1 when only a hole follows. Block devices refuse these (EINVAL).
     */
    long[] dataAndHole(long offset) throws IOException {
        long data = seek(offset, LibC.SEEK_DATA);
        long hole = data == offset ? seek(offset, LibC.SEEK_HOLE) : -1;
        return new long[] {data, hole};
    }

    private long seek(long offset, int whence) throws IOException {
        try {
            return LibC.lseek(fd, offset, whence);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENXIO) {
                return -1;
            }
            throw new ErrnoException("lseek(" + offset + ", " + whence + ")", e.getErrorCode());
        }
    }

    /** Closes the descriptor (and with it the exclusive claim or the lock). */
    void close() throws IOException {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            throw new ErrnoException("close", e.getErrorCode());
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            // nothing was written through it
        }
    }

    /** A failed native call with its errno. */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        ErrnoException(String call, int errno) {
            super(call + ": " + LibC.describe(errno));
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }
}
