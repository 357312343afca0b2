package org.jtarget.backstore.block.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Platform;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux native asynchronous I/O (io_setup, io_submit, io_getevents: aio(7)) on one O_DIRECT descriptor, so that
 * a burst of reads and writes reaches the device from the caller's thread without a hand-off to a pool thread and
 * a blocked system call per request: the caller's io_submit returns at once, and one completion thread collects
 * the finished requests in batches and completes them. O_DIRECT on a block device is what makes io_submit
 * asynchronous (buffered I/O would block in it).
 *
 * <p>{@code depth} requests can be in flight; each has a slot of native memory holding its {@code struct iocb}
 * (64 bytes, include/uapi/linux/aio_abi.h, little-endian 64-bit layout) and the one-element pointer array
 * io_submit takes. {@link #submit} returns false when every slot is taken (the caller then uses its pool).
 * A request's {@link Done} runs on the completion thread with the kernel's result: the bytes transferred, or
 * minus the errno.
 *
 * <p>{@link #close()} waits for the requests in flight (io_destroy does too), then stops the completion thread.
 */
final class Aio implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Aio.class);
    private static final boolean ARM = "aarch64".equals(Platform.ARCH);
    private static final long SYS_IO_SETUP = ARM ? 0 : 206;
    private static final long SYS_IO_DESTROY = ARM ? 1 : 207;
    private static final long SYS_IO_SUBMIT = ARM ? 2 : 209;
    private static final long SYS_IO_GETEVENTS = ARM ? 4 : 208;
    static final short IOCB_CMD_PREAD = 0;
    static final short IOCB_CMD_PWRITE = 1;
    /** Bytes per slot: the iocb (64), then the pointer to it that io_submit reads (8), padded. */
    private static final int SLOT = 128;
    private static final int EVENT = 32;
    private static final long WAIT_NANOS = 200_000_000L;

    /** What a request does when the kernel finished it: {@code result} bytes, or -errno. */
    interface Done {
        void done(long result);
    }

    private final String name;
    private final int fd;
    private final int depth;
    private final long ctx;
    private final Memory slots;
    private final ArrayBlockingQueue<Integer> free;
    private final AtomicReferenceArray<Done> pending;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Thread completions;
    private volatile boolean closing;

    private Aio(String name, int fd, int depth, long ctx) {
        this.name = name;
        this.fd = fd;
        this.depth = depth;
        this.ctx = ctx;
        this.slots = new Memory((long) SLOT * depth);
        this.slots.clear();
        this.free = new ArrayBlockingQueue<>(depth);
        this.pending = new AtomicReferenceArray<>(depth);
        for (int i = 0; i < depth; i++) {
            long at = (long) SLOT * i;
            slots.setLong(at + 64, com.sun.jna.Pointer.nativeValue(slots) + at); // io_submit's iocb *[1]
            free.add(i);
        }
        this.completions = new Thread(this::collect, "jtarget-block-" + name + "-aio");
        this.completions.setDaemon(true);
    }

    /**
     * An AIO context for {@code fd} with {@code depth} slots, its completion thread started; null when the kernel
     * offers none (no AIO in this kernel, or /proc/sys/fs/aio-max-nr reached), with the reason logged.
     */
    static Aio open(String name, int fd, int depth) {
        if (LibC.available() != null) {
            return null;
        }
        Memory ctxp = new Memory(8);
        ctxp.setLong(0, 0);
        try {
            LibC.syscall(SYS_IO_SETUP, depth, com.sun.jna.Pointer.nativeValue(ctxp), 0, 0, 0);
        } catch (LastErrorException | LinkageError e) {
            LOG.info("backstore {}: no native AIO ({}), O_DIRECT requests run on the I/O threads", name,
                    e instanceof LastErrorException l ? LibC.describe(l.getErrorCode()) : e.toString());
            return null;
        }
        Aio aio = new Aio(name, fd, depth, ctxp.getLong(0));
        aio.completions.start();
        return aio;
    }

    /**
     * Submits one read or write of {@code length} bytes at {@code offset} to/from the aligned memory at
     * {@code address}; {@code done} runs when the kernel finished it (also when it failed). False, and nothing
     * submitted, when every slot is in use or this is closing.
     *
     * @throws BlockDevice.ErrnoException when io_submit refused the request ({@code done} will not run)
     */
    boolean submit(short opcode, long address, int length, long offset, Done done) throws BlockDevice.ErrnoException {
        if (closing) {
            return false;
        }
        Integer slot = free.poll();
        if (slot == null) {
            return false;
        }
        long at = (long) SLOT * slot;
        slots.setLong(at, slot);          // aio_data: which slot, handed back in the io_event
        slots.setLong(at + 8, 0);         // aio_key, aio_rw_flags
        slots.setShort(at + 16, opcode);  // aio_lio_opcode
        slots.setShort(at + 18, (short) 0); // aio_reqprio
        slots.setInt(at + 20, fd);        // aio_fildes
        slots.setLong(at + 24, address);  // aio_buf
        slots.setLong(at + 32, length);   // aio_nbytes
        slots.setLong(at + 40, offset);   // aio_offset
        slots.setLong(at + 48, 0);        // aio_reserved2
        slots.setLong(at + 56, 0);        // aio_flags, aio_resfd
        pending.set(slot, done);
        inFlight.incrementAndGet();
        long iocbs = com.sun.jna.Pointer.nativeValue(slots) + at + 64;
        while (true) {
            try {
                LibC.syscall(SYS_IO_SUBMIT, ctx, 1, iocbs, 0, 0);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == LibC.EINTR) {
                    continue;
                }
                pending.set(slot, null);
                inFlight.decrementAndGet();
                free.add(slot);
                if (e.getErrorCode() == LibC.EAGAIN) {
                    return false; // the kernel's queue is full: the caller's pool takes it
                }
                throw new BlockDevice.ErrnoException("io_submit(" + (opcode == IOCB_CMD_PREAD ? "read " : "write ")
                        + offset + ", " + length + ")", e.getErrorCode());
            }
        }
    }

    /** Requests submitted and not yet completed. */
    int inFlight() {
        return inFlight.get();
    }

    /** The completion thread: collects finished requests in batches until closed and none is left. */
    private void collect() {
        Memory events = new Memory((long) EVENT * depth);
        Memory timeout = new Memory(16);
        timeout.setLong(0, 0);
        timeout.setLong(8, WAIT_NANOS);
        long eventsAddress = com.sun.jna.Pointer.nativeValue(events);
        long timeoutAddress = com.sun.jna.Pointer.nativeValue(timeout);
        while (!closing || inFlight.get() > 0) {
            long n;
            try {
                n = LibC.syscall(SYS_IO_GETEVENTS, ctx, 1, depth, eventsAddress, timeoutAddress);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == LibC.EINTR) {
                    continue;
                }
                LOG.error("backstore {}: io_getevents failed, {} requests left without an answer: {}", name,
                        inFlight.get(), LibC.describe(e.getErrorCode()));
                return;
            }
            for (int i = 0; i < n; i++) {
                long at = (long) EVENT * i;
                int slot = (int) events.getLong(at);          // data
                long result = events.getLong(at + 16);        // res
                Done done = pending.getAndSet(slot, null);
                free.add(slot);
                inFlight.decrementAndGet();
                if (done == null) {
                    continue;
                }
                try {
                    done.done(result);
                } catch (RuntimeException | Error e) {
                    LOG.warn("backstore {}: completing a request failed", name, e);
                }
            }
        }
    }

    /** Waits for the requests in flight, stops the completion thread and releases the context. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        completions.join();
        try {
            LibC.syscall(SYS_IO_DESTROY, ctx, 0, 0, 0, 0);
        } catch (LastErrorException e) {
            LOG.warn("backstore {}: io_destroy: {}", name, LibC.describe(e.getErrorCode()));
        }
    }
}
