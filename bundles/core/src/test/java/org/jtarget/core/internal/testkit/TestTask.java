package org.jtarget.core.internal.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiTask;

/** A fabric-side task double: records the response or the abort. */
public final class TestTask implements ScsiTask {
    private final long lun;
    private final byte[] cdb;
    private final long tag;
    private final TaskAttribute attribute;
    private final DataDirection direction;
    private final int expected;
    private final byte[] dataOut;
    public final CompletableFuture<ScsiResponse> response = new CompletableFuture<>();
    public final CompletableFuture<Void> abortedFuture = new CompletableFuture<>();
    /** When set, receiveData returns this stage instead of the data at once. */
    public volatile CompletableFuture<ByteBuf> dataStage;
    public volatile int completions;
    /** The Data-Out buffer handed to the core, to check that the core released it. */
    public volatile ByteBuf given;

    public TestTask(int lun, byte[] cdb, long tag, TaskAttribute attribute, DataDirection direction, int expected,
                    byte[] dataOut) {
        this.lun = (long) lun << 48;
        this.cdb = cdb;
        this.tag = tag;
        this.attribute = attribute;
        this.direction = direction;
        this.expected = expected;
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
        return attribute;
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
        if (dataStage != null) {
            return dataStage;
        }
        ByteBuf b = Unpooled.directBuffer(expected);
        b.writeBytes(dataOut, 0, Math.min(expected, dataOut.length));
        b.writeZero(expected - b.readableBytes());
        given = b;
        return CompletableFuture.completedFuture(b);
    }

    @Override
    public void complete(ScsiResponse r) {
        completions++;
        response.complete(r);
    }

    @Override
    public void aborted() {
        completions++;
        abortedFuture.complete(null);
    }
}
