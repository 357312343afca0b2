package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;

/**
 * LUN 0 of an export as NBD requests reach it: every request is a SCSI command submitted on the
 * connection's I_T nexus (so reservations, read_only, thin provisioning and ALUA apply as for any
 * initiator). A UNIT ATTENTION (a new nexus, a capacity change) means nothing to an NBD client: the
 * command is sent again, at most {@value #UA_RETRIES} times.
 */
final class LuAccess {
    static final int READ_16 = 0x88, WRITE_16 = 0x8A, SYNC_CACHE_16 = 0x91, WRITE_SAME_16 = 0x93, PRE_FETCH_16 = 0x90,
            UNMAP = 0x42, SERVICE_ACTION_IN_16 = 0x9E, MODE_SENSE_6 = 0x1A;
    static final int SA_READ_CAPACITY_16 = 0x10, SA_GET_LBA_STATUS = 0x12;
    /** The core's limits (VPD B0h): MAXIMUM UNMAP LBA COUNT and MAXIMUM WRITE SAME LENGTH. */
    static final long MAX_UNMAP_BLOCKS = 0x100000, MAX_WRITE_SAME_BLOCKS = 0x400000;
    private static final int UA_RETRIES = 4;

    /** What the GO reply tells: size, block size, write protection, thin provisioning. */
    record Facts(long size, int blockSize, boolean readOnly, boolean thin, boolean zeroesWhenUnmapped) {
    }

    private final ScsiSession session;
    private final AtomicLong tags = new AtomicLong();

    LuAccess(ScsiSession session) {
        this.session = session;
    }

    void close() {
        session.close();
    }

    /** READ CAPACITY(16) (size, block length, LBPME, LBPRZ) then MODE SENSE(6) (WP). */
    CompletionStage<Facts> probe() {
        byte[] rc = cdb16(SERVICE_ACTION_IN_16, 0, 0);
        rc[1] = SA_READ_CAPACITY_16;
        rc[13] = 32;
        return run(rc, DataDirection.READ, 32, null).thenCompose(cap -> {
            if (!cap.ok() || cap.data() == null || cap.data().readableBytes() < 16) {
                String why = cap.describe();
                cap.release();
                throw new IllegalStateException("READ CAPACITY(16): " + why);
            }
            ByteBuf d = cap.data();
            long last = d.getLong(d.readerIndex());
            int bs = d.getInt(d.readerIndex() + 8);
            int b14 = d.readableBytes() > 14 ? d.getByte(d.readerIndex() + 14) : 0;
            cap.release();
            byte[] ms = new byte[6];
            ms[0] = (byte) MODE_SENSE_6;
            ms[1] = 0x08; // DBD
            ms[2] = 0x3F; // all pages: only the header is read
            ms[4] = (byte) 0xFF;
            return run(ms, DataDirection.READ, 255, null).thenApply(mode -> {
                boolean wp = mode.ok() && mode.data() != null && mode.data().readableBytes() >= 3
                        && (mode.data().getByte(mode.data().readerIndex() + 2) & 0x80) != 0;
                mode.release();
                return new Facts((last + 1) * bs, bs, wp, (b14 & 0x80) != 0, (b14 & 0x40) != 0);
            });
        });
    }

    CompletionStage<ScsiResult> read(long lba, int blocks, int bytes) {
        return run(cdb16(READ_16, lba, blocks), DataDirection.READ, bytes, null);
    }

    /** WRITE(16), FUA when asked; takes ownership of {@code data}. */
    CompletionStage<ScsiResult> write(long lba, int blocks, ByteBuf data, boolean fua) {
        byte[] cdb = cdb16(WRITE_16, lba, blocks);
        if (fua) {
            cdb[1] = 0x08;
        }
        return run(cdb, DataDirection.WRITE, data.readableBytes(), data);
    }

    CompletionStage<ScsiResult> synchronizeCache() {
        return run(cdb16(SYNC_CACHE_16, 0, 0), DataDirection.NONE, 0, null);
    }

    CompletionStage<ScsiResult> preFetch(long lba, int blocks) {
        return run(cdb16(PRE_FETCH_16, lba, blocks), DataDirection.NONE, 0, null);
    }

    /** WRITE SAME(16) with NDOB (zeros, no Data-Out), UNMAP when holes are allowed. */
    CompletionStage<ScsiResult> writeZeros(long lba, int blocks, boolean unmap) {
        byte[] cdb = cdb16(WRITE_SAME_16, lba, blocks);
        cdb[1] = (byte) ((unmap ? 0x08 : 0) | 0x01);
        return run(cdb, DataDirection.NONE, 0, null);
    }

    /** UNMAP with one block descriptor (SBC-3 5.28). */
    CompletionStage<ScsiResult> unmap(long lba, int blocks) {
        ByteBuf list = Unpooled.buffer(24);
        list.writeShort(22).writeShort(16).writeInt(0);
        list.writeLong(lba).writeInt(blocks).writeInt(0);
        byte[] cdb = new byte[10];
        cdb[0] = (byte) UNMAP;
        cdb[8] = 24;
        return run(cdb, DataDirection.WRITE, 24, list);
    }

    /** GET LBA STATUS from {@code lba}: the descriptors in Data-In (SBC-3 5.7). */
    CompletionStage<ScsiResult> lbaStatus(long lba, int allocation) {
        byte[] cdb = cdb16(SERVICE_ACTION_IN_16, lba, allocation);
        cdb[1] = SA_GET_LBA_STATUS;
        return run(cdb, DataDirection.READ, allocation, null);
    }

    private static byte[] cdb16(int opcode, long lba, int count) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        for (int i = 0; i < 8; i++) {
            cdb[2 + i] = (byte) (lba >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            cdb[10 + i] = (byte) (count >>> (24 - 8 * i));
        }
        return cdb;
    }

    private CompletionStage<ScsiResult> run(byte[] cdb, DataDirection dir, int expected, ByteBuf data) {
        CompletableFuture<ScsiResult> out = new CompletableFuture<>();
        attempt(cdb, dir, expected, data, UA_RETRIES, out);
        return out;
    }

    private void attempt(byte[] cdb, DataDirection dir, int expected, ByteBuf data, int retries, CompletableFuture<ScsiResult> out) {
        Task task = new Task(cdb, dir, expected, data == null ? null : data.retainedDuplicate(), tags.incrementAndGet());
        task.result.whenComplete((r, e) -> {
            if (r != null && r.unitAttention() && retries > 0) {
                r.release();
                attempt(cdb, dir, expected, data, retries - 1, out);
                return;
            }
            ReferenceCountUtil.release(data);
            if (e != null) {
                out.completeExceptionally(e);
            } else {
                out.complete(r);
            }
        });
        try {
            session.submit(task);
        } catch (RuntimeException e) {
            task.finish(ScsiResult.ABORTED);
        }
    }

    /** One command: Data-Out handed over once; an unfetched Data-Out is released at the end. */
    private static final class Task implements ScsiTask {
        private final byte[] cdb;
        private final DataDirection direction;
        private final int expected;
        private final long tag;
        private final AtomicReference<ByteBuf> dataOut;
        final CompletableFuture<ScsiResult> result = new CompletableFuture<>();

        Task(byte[] cdb, DataDirection direction, int expected, ByteBuf dataOut, long tag) {
            this.cdb = cdb;
            this.direction = direction;
            this.expected = expected;
            this.tag = tag;
            this.dataOut = new AtomicReference<>(dataOut);
        }

        @Override
        public long lun() {
            return 0; // LUN 0, SAM-5 peripheral addressing
        }

        @Override
        public byte[] cdb() {
            return cdb;
        }

        @Override
        public long tag() {
            return tag;
        }

        @Override
        public TaskAttribute attribute() {
            return TaskAttribute.SIMPLE;
        }

        @Override
        public DataDirection direction() {
            return direction;
        }

        @Override
        public int expectedDataLength() {
            return expected;
        }

        @Override
        public CompletionStage<ByteBuf> receiveData() {
            ByteBuf d = dataOut.getAndSet(null);
            return d == null ? CompletableFuture.failedFuture(new IllegalStateException("Data-Out already taken"))
                    : CompletableFuture.completedFuture(d);
        }

        @Override
        public void complete(ScsiResponse response) {
            finish(new ScsiResult(response.status(), response.data(), response.sense()));
        }

        @Override
        public void aborted() {
            finish(ScsiResult.ABORTED);
        }

        void finish(ScsiResult r) {
            ReferenceCountUtil.release(dataOut.getAndSet(null));
            if (!result.complete(r)) {
                r.release();
            }
        }
    }
}
