package org.example.jtarget.linefabric;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;

/**
 * The SCSI commands behind the line protocol, each submitted as a {@link ScsiTask} and awaited on the
 * connection's own thread. The buffers follow the SPI's ownership rules: Data-Out handed to the core by
 * {@link ScsiTask#receiveData()} is the core's to release; Data-In in the {@link ScsiResponse} is ours, and
 * released here once copied into the answer.
 */
final class Commands {
    /** How long a command may take before the connection gives up on it and ends. */
    private static final long TIMEOUT_SECONDS = 60;
    private static final HexFormat HEX = HexFormat.of();

    private final ScsiSession session;
    private final long lun;
    private final LongSupplier tags;

    Commands(ScsiSession session, int lun, LongSupplier tags) {
        this.session = session;
        this.lun = lun < 256 ? (long) lun << 48 : (0x4000L | (lun & 0x3FFF)) << 48; // SAM-5 4.7
        this.tags = tags;
    }

    String inquiry() {
        byte[] cdb = {0x12, 0, 0, 0, 36, 0};
        return data(submit(cdb, DataDirection.READ, 36, null));
    }

    String capacity() {
        Answer a = submit(readCapacity16(), DataDirection.READ, 32, null);
        if (a.response == null || a.response.status() != ScsiStatus.GOOD) {
            return a.text();
        }
        ByteBuf d = a.response.data();
        try {
            return "OK " + (d.getLong(d.readerIndex()) + 1) + " " + d.getInt(d.readerIndex() + 8);
        } finally {
            d.release();
        }
    }

    String testUnitReady() {
        return submit(new byte[6], DataDirection.NONE, 0, null).text();
    }

    String read(long lba, int blocks) {
        Answer capacity = submit(readCapacity16(), DataDirection.READ, 32, null);
        int blockSize = blockSize(capacity);
        if (blockSize < 0) {
            return capacity.text(); // why READ CAPACITY failed (NOT READY, a unit attention, ...)
        }
        return data(submit(rw(0x88, lba, blocks), DataDirection.READ, Math.multiplyExact(blocks, blockSize), null));
    }

    String write(long lba, byte[] data) {
        Answer capacity = submit(readCapacity16(), DataDirection.READ, 32, null);
        int blockSize = blockSize(capacity);
        if (blockSize < 0) {
            return capacity.text();
        }
        if (data.length == 0 || data.length % blockSize != 0) {
            throw new IllegalArgumentException("WRITE: " + data.length + " bytes (expected: a multiple of the block size " + blockSize + ")");
        }
        return submit(rw(0x8A, lba, data.length / blockSize), DataDirection.WRITE, data.length, data).text();
    }

    String flush() {
        return submit(new byte[] {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, DataDirection.NONE, 0, null).text();
    }

    /** The logical block size a READ CAPACITY (16) answered (its data released), or -1 when it failed. */
    private static int blockSize(Answer a) {
        if (a.response == null || a.response.status() != ScsiStatus.GOOD) {
            return -1;
        }
        int size = a.response.data().getInt(a.response.data().readerIndex() + 8);
        a.release();
        return size;
    }

    private static byte[] readCapacity16() {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) 0x9E;
        cdb[1] = 0x10;
        cdb[13] = 32;
        return cdb;
    }

    private static byte[] rw(int opcode, long lba, int blocks) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) opcode).put((byte) 0).putLong(lba).putInt(blocks).put((byte) 0).put((byte) 0);
        return b.array();
    }

    private static String data(Answer a) {
        if (a.response == null || a.response.status() != ScsiStatus.GOOD) {
            return a.text();
        }
        ByteBuf d = a.response.data();
        if (d == null) {
            return "OK ";
        }
        try {
            return "OK " + ByteBufUtil.hexDump(d);
        } finally {
            d.release();
        }
    }

    /** The outcome of one task: a response, or null when the core aborted it. */
    private record Answer(ScsiResponse response) {
        String text() {
            release();
            if (response == null) {
                return "ABORTED";
            }
            return response.status() == ScsiStatus.GOOD ? "OK" : LineConnection.status(response);
        }

        void release() {
            if (response != null && response.data() != null && response.data().refCnt() > 0) {
                response.data().release();
            }
        }
    }

    private Answer submit(byte[] cdb, DataDirection direction, int expectedLength, byte[] dataOut) {
        Task task = new Task(lun, cdb, tags.getAsLong(), direction, expectedLength, dataOut);
        session.submit(task);
        try {
            return new Answer(task.done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("command " + HEX.toHexDigits(cdb[0]) + " did not complete", e);
        }
    }

    /** A command as the core sees it; the core calls back from any thread. */
    private static final class Task implements ScsiTask {
        private final long lun;
        private final byte[] cdb;
        private final long tag;
        private final DataDirection direction;
        private final int expectedLength;
        private final byte[] dataOut;
        /** Completes with the response, or null when aborted: exactly once either way. */
        final CompletableFuture<ScsiResponse> done = new CompletableFuture<>();

        Task(long lun, byte[] cdb, long tag, DataDirection direction, int expectedLength, byte[] dataOut) {
            this.lun = lun;
            this.cdb = cdb;
            this.tag = tag;
            this.direction = direction;
            this.expectedLength = expectedLength;
            this.dataOut = dataOut;
        }

        @Override
        public long lun() {
            return lun;
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
            return expectedLength;
        }

        /** The whole Data-Out at once (we have it already); the core owns and releases the buffer. */
        @Override
        public CompletionStage<ByteBuf> receiveData() {
            return CompletableFuture.completedFuture(Unpooled.wrappedBuffer(dataOut));
        }

        /** The response's data are ours now: whoever takes it from {@link #done} releases them. */
        @Override
        public void complete(ScsiResponse response) {
            if (!done.complete(response) && response.data() != null) {
                response.data().release(); // cannot happen (the core completes once), but never leak
            }
        }

        @Override
        public void aborted() {
            done.complete(null);
        }
    }
}
