package org.jtarget.iscsi.internal.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;

/**
 * A test-only device server for LUN 0 on a {@link MemoryDisk}: TEST UNIT READY, INQUIRY (standard, VPD 0x00,
 * 0x80, 0x83), READ CAPACITY (10)/(16), REPORT LUNS, READ/WRITE (10)/(16), MODE SENSE (6)/(10),
 * SYNCHRONIZE CACHE; anything else is INVALID COMMAND OPERATION CODE. Not the real core: just enough for
 * initiators to use a disk.
 */
public final class FakeScsiSession implements ScsiSession {
    private final MemoryDisk disk;
    public final FabricSession fabricSession;
    private final Executor executor;
    public final Map<Long, ScsiTask> inFlight = new ConcurrentHashMap<>();
    /** Opcodes (hex) and TMFs in the order received; only the first 1000, so long runs stay fast. */
    public final java.util.List<String> log = new CopyOnWriteArrayList<>();
    /** When true, WRITE commands wait in {@link #inFlight} until the test completes or aborts them. */
    public volatile boolean holdWrites;
    public volatile boolean closed;

    FakeScsiSession(MemoryDisk disk, FabricSession fabricSession, Executor executor) {
        this.disk = disk;
        this.fabricSession = fabricSession;
        this.executor = executor;
    }

    @Override
    public void submit(ScsiTask task) {
        if (log.size() < 1000) {
            log.add(String.format("%02x", task.cdb()[0] & 0xff));
        }
        if (executor == null) {
            execute(task);
        } else {
            executor.execute(() -> execute(task));
        }
    }

    private void execute(ScsiTask task) {
        byte[] cdb = task.cdb();
        int op = cdb[0] & 0xff;
        if (task.lun() != 0 && op != 0x12 && op != 0xa0) {
            task.complete(check(SenseReason.LOGICAL_UNIT_NOT_SUPPORTED));
            return;
        }
        switch (op) {
            case 0x00, 0x35, 0x91 -> task.complete(ScsiResponse.good());
            case 0x12 -> inquiry(task, cdb);
            case 0x25 -> {
                ByteBuf b = Unpooled.buffer(8).writeInt((int) Math.min(disk.blocks() - 1, 0xffffffffL))
                        .writeInt(MemoryDisk.BLOCK_SIZE);
                task.complete(data(b, be16(cdb, 7) == 0 ? 8 : 8));
            }
            case 0x9e -> {
                if ((cdb[1] & 0x1f) != 0x10) {
                    task.complete(check(SenseReason.INVALID_FIELD_IN_CDB));
                    return;
                }
                ByteBuf b = Unpooled.buffer(32).writeLong(disk.blocks() - 1).writeInt(MemoryDisk.BLOCK_SIZE)
                        .writeZero(20);
                task.complete(data(b, be32(cdb, 10)));
            }
            case 0xa0 -> {
                ByteBuf b = Unpooled.buffer(16).writeInt(8).writeInt(0).writeLong(0);
                task.complete(data(b, be32(cdb, 6)));
            }
            case 0x1a -> task.complete(data(Unpooled.buffer(4).writeByte(3).writeByte(0).writeByte(0).writeByte(0),
                    cdb[4] & 0xff));
            case 0x5a -> task.complete(data(Unpooled.buffer(8).writeShort(6).writeZero(6), be16(cdb, 7)));
            case 0x28 -> read(task, be32(cdb, 2), be16(cdb, 7));
            case 0x88 -> read(task, be64(cdb, 2), be32(cdb, 10));
            case 0x2a -> write(task, be32(cdb, 2), be16(cdb, 7));
            case 0x8a -> write(task, be64(cdb, 2), be32(cdb, 10));
            default -> task.complete(check(SenseReason.INVALID_COMMAND_OPERATION_CODE));
        }
    }

    private void inquiry(ScsiTask task, byte[] cdb) {
        int allocation = be16(cdb, 3);
        ByteBuf b = Unpooled.buffer(96);
        if ((cdb[1] & 1) == 0) {
            b.writeByte(task.lun() == 0 ? 0x00 : 0x7f).writeByte(0).writeByte(0x06).writeByte(0x02).writeByte(91)
                    .writeByte(0).writeByte(0).writeByte(0x02);
            b.writeCharSequence("JTARGET FAKE LUN        0001", StandardCharsets.US_ASCII);
            b.writeZero(96 - b.writerIndex());
        } else {
            switch (cdb[2] & 0xff) {
                case 0x00 -> b.writeByte(0).writeByte(0).writeShort(3).writeByte(0).writeByte(0x80).writeByte(0x83);
                case 0x80 -> b.writeByte(0).writeByte(0x80).writeShort(8)
                        .writeCharSequence("FAKE0001", StandardCharsets.US_ASCII);
                case 0x83 -> b.writeByte(0).writeByte(0x83).writeShort(12).writeByte(0x01).writeByte(0x03)
                        .writeByte(0).writeByte(8).writeLong(0x6001405000000001L); // NAA 6, binary
                default -> {
                    b.release();
                    task.complete(check(SenseReason.INVALID_FIELD_IN_CDB));
                    return;
                }
            }
        }
        task.complete(data(b, allocation));
    }

    private void read(ScsiTask task, long lba, long blocks) {
        if (outOfRange(lba, blocks)) {
            task.complete(check(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE));
            return;
        }
        int length = (int) blocks * MemoryDisk.BLOCK_SIZE;
        ByteBuf b = Unpooled.directBuffer(length);
        b.writeBytes(disk.bytes, (int) lba * MemoryDisk.BLOCK_SIZE, length);
        task.complete(new ScsiResponse(ScsiStatus.GOOD, b, null, 0));
    }

    private void write(ScsiTask task, long lba, long blocks) {
        int length = (int) Math.min(blocks * MemoryDisk.BLOCK_SIZE, Integer.MAX_VALUE);
        if (outOfRange(lba, blocks)) {
            task.complete(new ScsiResponse(ScsiStatus.CHECK_CONDITION, null,
                    sense(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE), length));
            return;
        }
        if (blocks == 0) {
            task.complete(ScsiResponse.good());
            return;
        }
        inFlight.put(task.tag(), task);
        if (holdWrites) {
            return;
        }
        task.receiveData().whenComplete((data, failure) -> {
            if (inFlight.remove(task.tag()) == null) {
                if (data != null) {
                    data.release();
                }
                return;
            }
            if (failure != null) {
                task.aborted();
                return;
            }
            try {
                data.getBytes(data.readerIndex(), disk.bytes, (int) lba * MemoryDisk.BLOCK_SIZE,
                        Math.min(length, data.readableBytes()));
            } finally {
                data.release();
            }
            task.complete(new ScsiResponse(ScsiStatus.GOOD, null, null, length));
        });
    }

    /** Lets a held WRITE fetch its data and finish. */
    public void release(long tag) {
        ScsiTask task = inFlight.get(tag);
        if (task != null) {
            holdWrites = false;
            inFlight.remove(tag);
            byte[] cdb = task.cdb();
            write(task, be32(cdb, 2), be16(cdb, 7));
        }
    }

    @Override
    public CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction function, long lun,
                                                                  long referencedTag) {
        log.add("TMF " + function);
        if (function == TaskManagementFunction.ABORT_TASK) {
            ScsiTask task = inFlight.remove(referencedTag);
            if (task == null) {
                return CompletableFuture.completedFuture(TaskManagementResponse.TASK_DOES_NOT_EXIST);
            }
            task.aborted();
            return CompletableFuture.completedFuture(TaskManagementResponse.FUNCTION_COMPLETE);
        }
        if (function == TaskManagementFunction.LOGICAL_UNIT_RESET) {
            inFlight.values().forEach(ScsiTask::aborted);
            inFlight.clear();
            return CompletableFuture.completedFuture(TaskManagementResponse.FUNCTION_COMPLETE);
        }
        return CompletableFuture.completedFuture(TaskManagementResponse.FUNCTION_NOT_SUPPORTED);
    }

    @Override
    public void close() {
        closed = true;
        inFlight.values().forEach(ScsiTask::aborted);
        inFlight.clear();
    }

    /** Hostile CDBs carry any LBA and length: negative (as 64-bit) or past the end is out of range. */
    private boolean outOfRange(long lba, long blocks) {
        return lba < 0 || blocks < 0 || lba + blocks > disk.blocks();
    }

    private static ScsiResponse data(ByteBuf b, long allocation) {
        if (b.readableBytes() > allocation) {
            b.writerIndex(b.readerIndex() + (int) allocation);
        }
        return new ScsiResponse(ScsiStatus.GOOD, b, null, 0);
    }

    public static ScsiResponse check(SenseReason reason) {
        return new ScsiResponse(ScsiStatus.CHECK_CONDITION, null, sense(reason), 0);
    }

    /** Fixed-format sense data (SPC-4 4.5.3). */
    public static byte[] sense(SenseReason reason) {
        byte[] s = new byte[18];
        s[0] = 0x70;
        s[2] = (byte) reason.key().code();
        s[7] = 10;
        s[12] = (byte) reason.asc();
        s[13] = (byte) reason.ascq();
        return s;
    }

    private static int be16(byte[] b, int i) {
        return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }

    private static long be32(byte[] b, int i) {
        return ((long) (b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
    }

    private static long be64(byte[] b, int i) {
        return (be32(b, i) << 32) | be32(b, i + 4);
    }
}
