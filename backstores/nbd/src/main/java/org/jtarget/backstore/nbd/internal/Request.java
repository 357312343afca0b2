package org.jtarget.backstore.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.Extent;

/**
 * One NBD command and the stage waiting for it. A request may be sent more than once (after a reconnection),
 * so it keeps its own reference to a write's data until it completes; each send takes another. Its reply
 * state is touched only by the event loop of the connection it is on.
 *
 * @param <T> what the stage completes with: a {@link ByteBuf} for READ, an {@link Extent} for BLOCK_STATUS,
 *            null for the others
 */
final class Request<T> {
    final int type;
    final int commandFlags;
    final long offset;
    final int length;
    final CompletableFuture<T> future = new CompletableFuture<>();
    /** For BLOCK_STATUS: the block size the extent is counted in and the meta context asked for. */
    private final int blockSize;
    private final long context;
    private ByteBuf data; // a write's own reference; null once released
    private final ByteBufAllocator alloc;
    /** Separate ranges a read's chunks may leave before the reply is taken as a protocol error (memory bound). */
    static final int MAX_RANGES = 4096;
    /** Failure to retry after, or the deadline timer while waiting for a connection. */
    volatile ScheduledFuture<?> waitTimer;
    volatile long waitingSince;

    // reply state (event loop only)
    private ByteBuf assembled;
    private long covered;
    /**
     * The byte ranges the chunks of a read covered so far (start to end, adjacent ones merged), so that two chunks
     * over the same bytes are a protocol error and not a read that counts as complete with a gap left as zeros.
     */
    private TreeMap<Long, Long> ranges;
    private int error;
    private String errorMessage;
    private Extent extent;

    Request(int type, int commandFlags, long offset, int length, ByteBuf data, ByteBufAllocator alloc,
            int blockSize, long context) {
        this.type = type;
        this.commandFlags = commandFlags;
        this.offset = offset;
        this.length = length;
        this.data = data;
        this.alloc = alloc;
        this.blockSize = blockSize;
        this.context = context;
        if (data != null) {
            future.whenComplete((v, t) -> releaseData()); // completion or cancellation
        }
    }

    /** The data to send this time (a new reference), or null for a command without; null also when done. */
    synchronized ByteBuf dataForSend() {
        return data == null ? null : data.retainedDuplicate();
    }

    boolean hasData() {
        return type == Nbd.CMD_WRITE;
    }

    private synchronized void releaseData() {
        if (data != null) {
            data.release();
            data = null;
        }
    }

    /** Bytes of payload a simple reply without error carries. */
    int simplePayload() {
        return type == Nbd.CMD_READ ? length : 0;
    }

    /** A simple reply: its payload (a READ's data) is handed over and released here if nobody takes it. */
    void simpleReply(int errorCode, ByteBuf payload) {
        if (errorCode != 0) {
            if (payload != null) {
                payload.release();
            }
            fail(failure(errorCode, null));
        } else {
            complete(payload);
        }
    }

    /** One chunk of a structured reply; {@code chunk} is released by the caller. */
    void chunk(int chunkType, ByteBuf chunk) {
        switch (chunkType) {
            case Nbd.REPLY_TYPE_OFFSET_DATA -> {
                if (type != Nbd.CMD_READ || chunk.readableBytes() < 8) {
                    protocol("OFFSET_DATA chunk for " + Nbd.commandName(type));
                    return;
                }
                long at = chunk.readLong() - offset;
                int n = chunk.readableBytes();
                if (at < 0 || at + n > length || covered + n > length || !claim(at, n)) {
                    protocol("OFFSET_DATA chunk outside the request or overlapping another");
                } else if (at == 0 && n == length && assembled == null) {
                    assembled = chunk.retainedSlice(); // the whole read in one chunk: no copy
                    covered = n;
                } else {
                    assemble().setBytes((int) at, chunk, chunk.readerIndex(), n);
                    covered += n;
                }
            }
            case Nbd.REPLY_TYPE_OFFSET_HOLE -> {
                if (type != Nbd.CMD_READ || chunk.readableBytes() < 12) {
                    protocol("OFFSET_HOLE chunk for " + Nbd.commandName(type));
                    return;
                }
                long at = chunk.readLong() - offset;
                long n = chunk.readUnsignedInt();
                if (at < 0 || at + n > length || covered + n > length || !claim(at, n)) {
                    protocol("OFFSET_HOLE chunk outside the request or overlapping another");
                } else {
                    assemble(); // zero-filled already
                    covered += n;
                }
            }
            case Nbd.REPLY_TYPE_BLOCK_STATUS -> blockStatus(chunk);
            case Nbd.REPLY_TYPE_NONE -> {
            }
            default -> {
                if ((chunkType & 0x8000) != 0 && chunk.readableBytes() >= 6) {
                    int code = chunk.readInt();
                    int messageLength = Math.min(chunk.readUnsignedShort(), chunk.readableBytes());
                    if (error == 0) {
                        error = code == 0 ? Nbd.EIO : code;
                        errorMessage = chunk.toString(chunk.readerIndex(), messageLength, StandardCharsets.UTF_8);
                    }
                } else if ((chunkType & 0x8000) != 0) {
                    protocol("short error chunk");
                }
                // an unknown non-error chunk type is ignored (proto.md: the client MAY ignore it)
            }
        }
    }

    /** Records the chunk's range [at, at + n); false when it overlaps one already there or the ranges are too many. */
    private boolean claim(long at, long n) {
        if (n == 0 || (covered == 0 && at == 0 && n == length)) {
            return true; // the whole read in one chunk, the usual reply: any further byte exceeds the length
        }
        if (ranges == null) {
            ranges = new TreeMap<>();
        }
        long end = at + n;
        var before = ranges.floorEntry(at);
        if (before != null && before.getValue() > at) {
            return false;
        }
        var after = ranges.ceilingEntry(at);
        if (after != null && after.getKey() < end) {
            return false;
        }
        long start = at;
        if (before != null && before.getValue() == at) { // adjacent: one range, as chunks in order make
            start = before.getKey();
            ranges.remove(start);
        }
        if (after != null && after.getKey() == end) {
            end = after.getValue();
            ranges.remove(after.getKey());
        }
        ranges.put(start, end);
        return ranges.size() <= MAX_RANGES;
    }

    /** The last chunk arrived (NBD_REPLY_FLAG_DONE). */
    void done() {
        if (error != 0) {
            fail(failure(error, errorMessage));
        } else if (type == Nbd.CMD_READ) {
            if (covered != length) {
                protocol("READ reply covered " + covered + " of " + length + " bytes");
                return;
            }
            ByteBuf result = assembled;
            assembled = null;
            complete(result);
        } else if (type == Nbd.CMD_BLOCK_STATUS) {
            if (extent == null) {
                protocol("BLOCK_STATUS reply without a base:allocation extent");
                return;
            }
            complete(extent);
        } else {
            complete(null);
        }
    }

    private void blockStatus(ByteBuf chunk) {
        if (type != Nbd.CMD_BLOCK_STATUS || chunk.readableBytes() < 12) {
            protocol("BLOCK_STATUS chunk for " + Nbd.commandName(type));
            return;
        }
        long id = chunk.readUnsignedInt();
        if (id != context || extent != null) {
            return;
        }
        long bytes = chunk.readUnsignedInt();
        boolean mapped = (chunk.readInt() & Nbd.STATE_HOLE) == 0;
        long blocks;
        if (bytes < blockSize) {
            blocks = 1;
            mapped = true; // a block partly mapped is mapped
        } else {
            blocks = mapped ? (bytes + blockSize - 1) / blockSize : bytes / blockSize;
        }
        extent = new Extent(blocks, mapped);
    }

    private ByteBuf assemble() {
        if (assembled == null) {
            assembled = alloc.directBuffer(length);
            assembled.writeZero(length);
        }
        return assembled;
    }

    @SuppressWarnings("unchecked")
    private void complete(Object result) {
        if (!future.complete((T) result) && result instanceof ByteBuf b) {
            b.release(); // cancelled meanwhile: the late reply's payload goes nowhere
        }
    }

    void fail(Throwable t) {
        reset();
        future.completeExceptionally(t);
    }

    /** Forgets a partial reply (the connection was lost mid-reply; the request may be sent again). */
    void reset() {
        if (assembled != null) {
            assembled.release();
            assembled = null;
        }
        covered = 0;
        ranges = null;
        error = 0;
        errorMessage = null;
        extent = null;
    }

    private void protocol(String what) {
        fail(new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, "protocol error: " + what));
    }

    BackstoreException failure(int code, String message) {
        String text = Nbd.commandName(type) + " of " + length + " bytes at offset " + offset + " failed: "
                + Nbd.errorName(code) + (message == null || message.isEmpty() ? "" : " (" + message + ")");
        boolean reading = type == Nbd.CMD_READ || type == Nbd.CMD_BLOCK_STATUS;
        SenseReason reason = switch (code) {
            case Nbd.EPERM -> reading ? SenseReason.UNRECOVERED_READ_ERROR : SenseReason.WRITE_PROTECTED;
            case Nbd.ENOSPC -> SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
            case Nbd.EINVAL, Nbd.EOVERFLOW -> SenseReason.INVALID_FIELD_IN_CDB;
            case Nbd.ENOTSUP -> SenseReason.INVALID_COMMAND_OPERATION_CODE;
            case Nbd.ESHUTDOWN -> SenseReason.LOGICAL_UNIT_NOT_READY;
            case Nbd.ENOMEM -> SenseReason.INTERNAL_TARGET_FAILURE;
            default -> reading ? SenseReason.UNRECOVERED_READ_ERROR : SenseReason.WRITE_ERROR;
        };
        return new BackstoreException(reason, text);
    }
}
