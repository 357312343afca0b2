package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The transmission phase (doc/proto.md "Transmission phase"): each request becomes SCSI commands on the
 * connection's nexus (see {@link LuAccess}); replies go out as they complete, simple or structured. At most
 * {@code maxInFlight} requests run at once (the TPG's cmdsn_window); beyond, and while the socket does not
 * drain, the connection stops reading (back-pressure). A write longer than {@value Nbd#MAX_PAYLOAD} bytes or a
 * bad request magic ends the connection (its payload cannot be skipped safely); other bad requests get an
 * error reply: EINVAL (unknown command or flag, misaligned, too long, past the end), ENOSPC (a write or
 * zeroing past the end).
 */
final class Transmission {
    private static final int KNOWN_FLAGS = Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_DF | Nbd.CMD_FLAG_REQ_ONE
            | Nbd.CMD_FLAG_FAST_ZERO;
    /** GET LBA STATUS allocation length: the header and 64 descriptors. */
    private static final int LBA_STATUS_BYTES = 8 + 16 * 64;
    private static final int HEADER = 28;

    private final NbdConnection connection;
    private final ChannelHandlerContext ctx;
    private final LuAccess lu;
    private final LuAccess.Facts facts;
    private final boolean structured;
    private final boolean allocation;
    private final int maxInFlight;
    private int inFlight;
    private boolean paused;
    private boolean disconnecting;
    /** True while {@link #start} runs: a reply given at once must not re-enter the parser. */
    private boolean starting;
    /**
     * Reply headers (and short replies) not yet written, in order. Within a batch (one read of the socket, one
     * completion task) replies gather here and go out in one write and one flush at its end.
     */
    private ByteBuf replies;
    private boolean batch;
    private boolean unflushed;

    Transmission(NbdConnection connection, LuAccess lu, LuAccess.Facts facts, boolean structured, boolean allocation, int maxInFlight) {
        this.connection = connection;
        this.ctx = connection.ctx();
        this.lu = lu;
        this.facts = facts;
        this.structured = structured;
        this.allocation = allocation;
        this.maxInFlight = maxInFlight;
    }

    /** The connection closed: the nexus goes, aborting what runs. */
    void closed() {
        if (replies != null) {
            replies.release();
            replies = null;
        }
        lu.close();
    }

    /** Replies given from now on wait for {@link #endBatch}. */
    void beginBatch() {
        batch = true;
    }

    /** Writes and flushes the replies of the batch. */
    void endBatch() {
        batch = false;
        if (replies != null) {
            ctx.write(replies);
            replies = null;
            unflushed = true;
        }
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
    }

    /** Room for a reply of {@code n} bytes after those already gathered. */
    private ByteBuf replyBuffer(int n) {
        if (replies == null) {
            replies = ctx.alloc().directBuffer(Math.max(n, 512));
        }
        return replies;
    }

    /** A reply was gathered: out now unless a batch runs. */
    private void replied() {
        if (!batch) {
            endBatch();
        }
    }

    /**
     * The length of the request that begins {@code in}: the header, and a write's payload once the header is
     * there (a payload over the limit counts as none: {@link #next} ends the connection on it).
     */
    int wanted(ByteBuf in) {
        if (in.readableBytes() < HEADER) {
            return HEADER;
        }
        int at = in.readerIndex();
        long length = in.getUnsignedInt(at + 24);
        boolean write = in.getInt(at) == Nbd.REQUEST_MAGIC && in.getUnsignedShort(at + 6) == Nbd.CMD_WRITE;
        return write && length <= Nbd.MAX_PAYLOAD ? HEADER + (int) length : HEADER;
    }

    /** Parses and starts one request if a whole one is buffered; false to wait for more (or not read now). */
    boolean next(ByteBuf in) {
        if (disconnecting) {
            in.skipBytes(in.readableBytes()); // NBD_CMD_DISC: nothing after it counts
            return false;
        }
        if (inFlight >= maxInFlight || !ctx.channel().isWritable()) {
            pause();
            return false;
        }
        resumeReading();
        if (in.readableBytes() < HEADER) {
            return false;
        }
        int at = in.readerIndex();
        int magic = in.getInt(at);
        if (magic != Nbd.REQUEST_MAGIC) {
            connection.fail("request magic: 0x" + Integer.toHexString(magic) + " (expected: 0x" + Integer.toHexString(Nbd.REQUEST_MAGIC) + ")");
            return false;
        }
        int flags = in.getUnsignedShort(at + 4);
        int type = in.getUnsignedShort(at + 6);
        long handle = in.getLong(at + 8);
        long offset = in.getLong(at + 16);
        long length = in.getUnsignedInt(at + 24);
        ByteBuf payload = null;
        if (type == Nbd.CMD_WRITE) {
            if (length > Nbd.MAX_PAYLOAD) {
                connection.fail("write length: " + length + " (expected: <= " + Nbd.MAX_PAYLOAD + ")");
                return false;
            }
            if (in.readableBytes() < HEADER + length) {
                return false;
            }
            in.skipBytes(HEADER);
            payload = in.readRetainedSlice((int) length);
        } else {
            in.skipBytes(HEADER);
        }
        inFlight++;
        starting = true;
        try {
            start(type, flags, handle, offset, length, payload);
        } finally {
            starting = false;
        }
        return true;
    }

    private void pause() {
        if (!paused) {
            paused = true;
            ctx.channel().config().setAutoRead(false);
        }
    }

    private void resumeReading() {
        if (paused) {
            paused = false;
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    private void start(int type, int flags, long handle, long offset, long length, ByteBuf payload) {
        int bs = facts.blockSize();
        String problem = null;
        int errno = Nbd.EINVAL;
        boolean writes = type == Nbd.CMD_WRITE || type == Nbd.CMD_WRITE_ZEROES;
        if ((flags & ~KNOWN_FLAGS) != 0) {
            problem = "flags 0x" + Integer.toHexString(flags);
        } else if (type == Nbd.CMD_DISC) {
            disconnecting = true;
            done();
            return;
        } else if (type > Nbd.CMD_BLOCK_STATUS) {
            problem = "command " + type + " is not supported";
        } else if (type == Nbd.CMD_READ && length > Nbd.MAX_PAYLOAD) {
            problem = "read length " + length + " (expected: <= " + Nbd.MAX_PAYLOAD + ")";
        } else if (offset < 0 || offset > facts.size() || length > facts.size() - offset) {
            problem = "offset " + offset + " + length " + length + " past the end (" + facts.size() + " bytes)";
            errno = writes ? Nbd.ENOSPC : Nbd.EINVAL;
        } else if (type != Nbd.CMD_BLOCK_STATUS && type != Nbd.CMD_FLUSH && (offset % bs != 0 || length % bs != 0)) {
            problem = "offset " + offset + " or length " + length + " not a multiple of the block size " + bs;
        } else if (type == Nbd.CMD_BLOCK_STATUS && !allocation) {
            problem = "NBD_CMD_BLOCK_STATUS without the base:allocation context";
        }
        if (problem != null) {
            if (payload != null) {
                payload.release();
            }
            replyError(handle, errno, problem);
            done();
            return;
        }
        long lba = offset / bs;
        int blocks = (int) (length / bs);
        boolean fua = (flags & Nbd.CMD_FLAG_FUA) != 0;
        switch (type) {
            case Nbd.CMD_READ -> {
                if (length == 0) {
                    finish(handle, ok(), false);
                    return;
                }
                lu.read(lba, blocks, (int) length).whenComplete((r, e) -> onLoop(() -> read(handle, offset, (int) length, r, e)));
            }
            case Nbd.CMD_WRITE -> {
                if (length == 0) {
                    payload.release();
                    finish(handle, ok(), true);
                    return;
                }
                lu.write(lba, blocks, payload, fua).whenComplete((r, e) -> onLoop(() -> finish(handle, r, e, true)));
            }
            case Nbd.CMD_FLUSH -> lu.synchronizeCache().whenComplete((r, e) -> onLoop(() -> finish(handle, r, e, false)));
            case Nbd.CMD_CACHE -> lu.preFetch(lba, blocks).whenComplete((r, e) -> onLoop(() -> finish(handle, r, e, false)));
            case Nbd.CMD_TRIM -> {
                if (!facts.thin() || blocks == 0) {
                    finish(handle, ok(), true); // advisory (doc/proto.md): nothing to deallocate on a thick LU
                    return;
                }
                withFua(chunks(lba, blocks, LuAccess.MAX_UNMAP_BLOCKS, (l, n) -> lu.unmap(l, n)), fua)
                        .whenComplete((r, e) -> onLoop(() -> finish(handle, r, e, true)));
            }
            case Nbd.CMD_WRITE_ZEROES -> {
                boolean holes = (flags & Nbd.CMD_FLAG_NO_HOLE) == 0 && facts.thin();
                if ((flags & Nbd.CMD_FLAG_FAST_ZERO) != 0 && !(holes && facts.zeroesWhenUnmapped())) {
                    replyError(handle, Nbd.ENOTSUP, "zeroing is not faster than writing here (thick LU or NO_HOLE)");
                    done();
                    return;
                }
                if (blocks == 0) {
                    finish(handle, ok(), true);
                    return;
                }
                withFua(chunks(lba, blocks, LuAccess.MAX_WRITE_SAME_BLOCKS, (l, n) -> lu.writeZeros(l, n, holes)), fua)
                        .whenComplete((r, e) -> onLoop(() -> finish(handle, r, e, true)));
            }
            case Nbd.CMD_BLOCK_STATUS -> {
                if (length == 0) {
                    replyError(handle, Nbd.EINVAL, "block status of 0 bytes");
                    done();
                    return;
                }
                boolean one = (flags & Nbd.CMD_FLAG_REQ_ONE) != 0;
                lu.lbaStatus(lba, LBA_STATUS_BYTES).whenComplete((r, e) -> onLoop(() -> blockStatus(handle, offset, length, one, r, e)));
            }
            default -> throw new IllegalStateException("command " + type);
        }
    }

    private static ScsiResult ok() {
        return new ScsiResult(org.jtarget.scsi.ScsiStatus.GOOD, null, null);
    }

    private interface Op {
        CompletionStage<ScsiResult> run(long lba, int blocks);
    }

    /** Runs {@code op} over the range in pieces of at most {@code max} blocks, one after the other, up to the first failure. */
    private static CompletionStage<ScsiResult> chunks(long lba, long blocks, long max, Op op) {
        int n = (int) Math.min(blocks, max);
        return op.run(lba, n).thenCompose(r -> {
            if (!r.ok() || blocks == n) {
                return CompletableFuture.completedFuture(r);
            }
            r.release();
            return chunks(lba + n, blocks - n, max, op);
        });
    }

    private CompletionStage<ScsiResult> withFua(CompletionStage<ScsiResult> s, boolean fua) {
        return !fua ? s : s.thenCompose(r -> r.ok() ? lu.synchronizeCache() : CompletableFuture.completedFuture(r));
    }

    private void onLoop(Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
        } else {
            ctx.executor().execute(() -> {
                boolean outer = batch;
                batch = true;
                try {
                    r.run();
                } finally {
                    if (!outer) {
                        endBatch();
                    }
                }
            });
        }
    }

    private void finish(long handle, ScsiResult r, Throwable e, boolean write) {
        finish(handle, e != null ? ScsiResult.ABORTED : r, write);
    }

    private void finish(long handle, ScsiResult r, boolean write) {
        int errno = r.errno(write);
        if (errno == 0) {
            replyOk(handle);
        } else {
            replyError(handle, errno, r.describe());
        }
        r.release();
        done();
    }

    private void read(long handle, long offset, int length, ScsiResult r, Throwable e) {
        if (e != null || !r.ok() || r.data() == null || r.data().readableBytes() < length) {
            ScsiResult res = e != null ? ScsiResult.ABORTED : r;
            int errno = res.errno(false);
            replyError(handle, errno == 0 ? Nbd.EIO : errno, errno == 0 ? "short read" : res.describe());
            if (r != null) {
                r.release();
            }
            done();
            return;
        }
        ByteBuf data = r.data().readRetainedSlice(length);
        r.release();
        ByteBuf h = replyBuffer(28);
        if (structured) {
            chunkHeader(h, Nbd.REPLY_TYPE_OFFSET_DATA, handle, 8 + length).writeLong(offset);
        } else {
            h.writeInt(Nbd.SIMPLE_REPLY_MAGIC).writeInt(0).writeLong(handle);
        }
        ctx.write(h);
        replies = null;
        ctx.write(data);
        unflushed = true;
        replied();
        done();
    }

    /** base:allocation from GET LBA STATUS: deallocated or anchored blocks are holes (and zero with LBPRZ). */
    private void blockStatus(long handle, long offset, long length, boolean one, ScsiResult r, Throwable e) {
        List<long[]> extents = new ArrayList<>();
        long end = offset + length;
        if (e == null && r.ok() && r.data() != null) {
            ByteBuf d = r.data();
            long pos = offset;
            long bs = facts.blockSize();
            for (int i = d.readerIndex() + 8; i + 16 <= d.writerIndex() && pos < end; i += 16) {
                long from = d.getLong(i) * bs;
                long to = from + d.getUnsignedInt(i + 8) * bs;
                int status = d.getByte(i + 12) & 0x0F;
                if (to <= pos) {
                    continue;
                }
                if (from > pos) {
                    break;
                }
                long stop = Math.min(to, end);
                int state = status == 0 ? 0 : Nbd.STATE_HOLE | (facts.zeroesWhenUnmapped() ? Nbd.STATE_ZERO : 0);
                long[] last = extents.isEmpty() ? null : extents.get(extents.size() - 1);
                if (last != null && last[1] == state) {
                    last[0] += stop - pos;
                } else {
                    extents.add(new long[] {stop - pos, state});
                }
                pos = stop;
            }
        } else if (e != null || r.senseKey() != 5) { // ILLEGAL REQUEST: a thick LU without GET LBA STATUS: all allocated
            ScsiResult res = e != null ? ScsiResult.ABORTED : r;
            replyError(handle, res.errno(false), res.describe());
            res.release();
            done();
            return;
        }
        if (r != null) {
            r.release();
        }
        if (extents.isEmpty()) {
            extents.add(new long[] {length, 0});
        }
        if (one) {
            extents.subList(1, extents.size()).clear();
        }
        ByteBuf c = replyBuffer(24 + 8 * extents.size());
        chunkHeader(c, Nbd.REPLY_TYPE_BLOCK_STATUS, handle, 4 + 8 * extents.size()).writeInt(Nbd.BASE_ALLOCATION_ID);
        for (long[] x : extents) {
            c.writeInt((int) x[0]).writeInt((int) x[1]);
        }
        replied();
        done();
    }

    private ByteBuf chunkHeader(ByteBuf b, int type, long handle, int length) {
        return b.writeInt(Nbd.STRUCTURED_REPLY_MAGIC).writeShort(Nbd.REPLY_FLAG_DONE).writeShort(type).writeLong(handle).writeInt(length);
    }

    private void replyOk(long handle) {
        ByteBuf h = replyBuffer(20);
        if (structured) {
            chunkHeader(h, Nbd.REPLY_TYPE_NONE, handle, 0);
        } else {
            h.writeInt(Nbd.SIMPLE_REPLY_MAGIC).writeInt(0).writeLong(handle);
        }
        replied();
    }

    private void replyError(long handle, int errno, String message) {
        byte[] m = structured ? message.getBytes(StandardCharsets.UTF_8) : null;
        int len = m == null ? 0 : Math.min(m.length, 1024);
        ByteBuf h = replyBuffer(26 + len);
        if (structured) {
            chunkHeader(h, Nbd.REPLY_TYPE_ERROR, handle, 6 + len).writeInt(errno).writeShort(len).writeBytes(m, 0, len);
        } else {
            h.writeInt(Nbd.SIMPLE_REPLY_MAGIC).writeInt(errno).writeLong(handle);
        }
        replied();
    }

    /** A request was answered: the window opens again; after NBD_CMD_DISC the last one closes the connection. */
    private void done() {
        inFlight--;
        if (disconnecting) {
            if (inFlight == 0) {
                endBatch();
                ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        if (!starting) {
            connection.process();
        }
    }
}
