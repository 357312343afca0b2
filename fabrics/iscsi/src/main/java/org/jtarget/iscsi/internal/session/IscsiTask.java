package org.jtarget.iscsi.internal.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiTask;

/**
 * One SCSI command on a connection (RFC 7143 §11.3). Gathers its Data-Out (immediate data, unsolicited
 * Data-Out up to FirstBurstLength, then R2T bursts of at most MaxBurstLength with at most MaxOutstandingR2T in
 * flight, §11.7-11.8) as retained slices, and sends Data-In and status (§11.7, §11.4). The core's callbacks
 * may come from any thread; they hop to the channel's event loop unless already on it. All state is touched
 * only on that loop.
 */
final class IscsiTask implements ScsiTask {
    private final IscsiConnection connection;
    private final long lun;
    private final byte[] cdb;
    private final int itt;
    private final boolean immediate;
    private final TaskAttribute attribute;
    private final DataDirection direction;
    private final int expectedLength;
    private final int bidiReadLength;

    // Data-Out state (RFC 7143 §11.7.5 DataSN, §11.7.6 BufferOffset)
    private final int unsolicitedLimit;
    private boolean unsolicitedDone;
    private int unsolicitedDataSn;
    private int received;
    private final List<Piece> pieces = new ArrayList<>(4);
    private final List<Burst> bursts = new ArrayList<>(2);
    private int nextR2tOffset;
    private int r2tSn;
    private CompletableFuture<ByteBuf> dataFuture;
    private boolean finished;
    /** A data phase that broke (see {@link #failDataPhase}): the sense to answer with, or null. */
    private SenseReason failure;
    /** The sequences (TTT; unsolicited: the reserved tag) whose last Data-Out must come before that answer. */
    private final Set<Integer> openSequences = new HashSet<>(2);

    /** What was wrong with a Data-Out PDU; {@code sequence} for a DataSN out of order (RFC 7143 §7.9). */
    record DataOutError(String message, boolean sequence) {
    }

    private record Piece(int offset, ByteBuf data) {
    }

    private static final class Burst {
        final int ttt;
        final int offset;
        final int length;
        int received;
        int nextDataSn;

        Burst(int ttt, int offset, int length) {
            this.ttt = ttt;
            this.offset = offset;
            this.length = length;
        }
    }

    IscsiTask(IscsiConnection connection, ScsiCommand command, SessionParameters parameters) {
        this.connection = connection;
        this.lun = command.lun();
        this.cdb = command.cdb();
        this.itt = command.itt();
        this.immediate = command.immediate();
        this.attribute = TaskAttribute.fromCode(command.attribute());
        int edtl = command.expectedDataLength();
        if (command.read() && command.write()) {
            direction = DataDirection.BIDIRECTIONAL;
        } else if (command.write() && edtl > 0) {
            direction = DataDirection.WRITE;
        } else if (command.read() && edtl > 0) {
            direction = DataDirection.READ;
        } else {
            direction = DataDirection.NONE;
        }
        this.expectedLength = edtl;
        this.bidiReadLength = command.bidiReadLength();
        int immediateLength = command.data().readableBytes();
        if (immediateLength > 0) {
            pieces.add(new Piece(0, command.data().retainedSlice()));
            received = immediateLength;
        }
        // §13.10/§13.14: unsolicited Data-Out only when InitialR2T=No and the command's F bit is clear.
        boolean writes = direction == DataDirection.WRITE || direction == DataDirection.BIDIRECTIONAL;
        this.unsolicitedLimit = writes ? Math.min(edtl, parameters.firstBurstLength()) : 0;
        this.unsolicitedDone = !writes || command.finalFlag() || parameters.initialR2T() || received >= unsolicitedLimit;
        this.nextR2tOffset = received;
    }

    int itt() {
        return itt;
    }

    boolean countsAgainstWindow() {
        return !immediate;
    }

    // ---- ScsiTask, as the core sees it ----

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
        return itt & 0xffffffffL;
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
        return expectedLength;
    }

    @Override
    public int expectedBidirectionalReadLength() {
        return bidiReadLength;
    }

    @Override
    public CompletionStage<ByteBuf> receiveData() {
        CompletableFuture<ByteBuf> future = new CompletableFuture<>();
        connection.runOnLoop(() -> {
            if (finished || dataFuture != null) {
                future.completeExceptionally(new IllegalStateException(finished
                        ? "task 0x" + Integer.toHexString(itt) + " is over" : "receiveData called twice"));
                return;
            }
            dataFuture = future;
            sendR2ts();
            deliverIfComplete();
        });
        return future;
    }

    @Override
    public void complete(ScsiResponse response) {
        connection.runOnLoop(() -> {
            if (finished) {
                ReferenceCountUtil.release(response.data());
                return;
            }
            finish("command completed before its data arrived");
            connection.taskFinished(this);
            respond(response);
        });
    }

    @Override
    public void aborted() {
        connection.runOnLoop(() -> {
            if (!finished) {
                finish("task aborted");
                connection.taskFinished(this);
            } else {
                // A failed data phase waiting for its last Data-Out (§7.8 b) that the core aborts (ABORT TASK
                // SET, LOGICAL UNIT RESET, ...): the task management concludes the wait, as ABORT TASK does.
                abandonFailedDataPhase();
            }
        });
    }

    /**
     * Ends the command here because its Data-Out broke the rules: CHECK CONDITION with {@code reason}; the
     * core's data request fails and whatever it answers later is dropped. The connection lives on. Event
     * loop only.
     *
     * @param reason   the sense
     * @param awaitEnd for a lost Data-Out (digest error, or one implied by a DataSN out of order): answer only
     *                 once the initiator has sent the last Data-Out (F bit) of every sequence still open,
     *                 counting {@code ttt}'s as ended when {@code lastOfSequence} (RFC 7143 §7.8 b, §7.9);
     *                 otherwise (a protocol error) answer at once (§7.4: the Reject alone never ends it)
     */
    void failDataPhase(SenseReason reason, boolean awaitEnd, int ttt, boolean lastOfSequence) {
        if (finished) {
            return;
        }
        if (awaitEnd) {
            openSequences.clear();
            if (!unsolicitedDone) {
                openSequences.add(IscsiPdu.RESERVED_TAG);
            }
            bursts.forEach(b -> openSequences.add(b.ttt));
            if (lastOfSequence) {
                openSequences.remove(ttt);
            }
        }
        finish("Data-Out failed: " + reason);
        failure = reason;
        if (!awaitEnd || openSequences.isEmpty()) {
            respondFailure();
        }
    }

    /**
     * ABORT TASK while a failed data phase waits for its last Data-Out (RFC 7143 §7.8 b: a task management
     * command may conclude that wait): the task ends without a response and its ITT is free.
     *
     * @return whether this task was waiting so
     */
    boolean abandonFailedDataPhase() {
        if (failure == null) {
            return false;
        }
        failure = null;
        openSequences.clear();
        connection.taskFinished(this);
        return true;
    }

    /** Sends the CHECK CONDITION of a failed data phase and lets the ITT go. */
    private void respondFailure() {
        SenseReason reason = failure;
        failure = null;
        openSequences.clear();
        connection.taskFinished(this);
        ByteBuf sense = connection.alloc().buffer(20).writeShort(18).writeBytes(fixedSense(reason));
        connection.send(new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.COMMAND_COMPLETED,
                ScsiStatus.CHECK_CONDITION.code(), itt, 0, connection.nextStatSn(), connection.expCmdSn(),
                connection.maxCmdSn(), r2tSn, 0, 0, sense));
        connection.flush();
    }

    /** Fixed-format sense data, SPC-4 4.5.3: response code 0x70, key (byte 2), ASC/ASCQ (bytes 12-13). */
    private static byte[] fixedSense(SenseReason reason) {
        byte[] sense = new byte[18];
        sense[0] = 0x70;
        sense[2] = (byte) reason.key().code();
        sense[7] = 10; // additional sense length
        sense[12] = (byte) reason.asc();
        sense[13] = (byte) reason.ascq();
        return sense;
    }

    /** The connection is gone: drop everything, fail a pending data request. Event loop only. */
    void connectionLost() {
        finish("connection closed");
    }

    /** Ends the task here; {@code why} fails a pending data request (the exception is built only then). */
    private void finish(String why) {
        finished = true;
        for (Piece p : pieces) {
            p.data.release();
        }
        pieces.clear();
        bursts.clear();
        if (dataFuture != null && !dataFuture.isDone()) {
            dataFuture.completeExceptionally(new IllegalStateException(why));
        }
    }

    // ---- Data-Out ----

    /**
     * Accepts one Data-Out PDU for this task (the PDU keeps its reference; this retains what it keeps).
     *
     * @return null when accepted (or dropped), else what was wrong with it
     */
    DataOutError onDataOut(DataOut pdu) {
        if (finished) {
            // e.g. unsolicited data still arriving after an early CHECK CONDITION: drop it; a failed data
            // phase answers once the last Data-Out of its open sequences came (RFC 7143 §7.8 b)
            if (failure != null && pdu.finalFlag() && openSequences.remove(pdu.ttt()) && openSequences.isEmpty()) {
                respondFailure();
            }
            return null;
        }
        int length = pdu.data().readableBytes();
        if (pdu.ttt() == IscsiPdu.RESERVED_TAG) {
            if (unsolicitedDone) {
                return error("unsolicited Data-Out after the first burst ended");
            }
            if (pdu.dataSn() != unsolicitedDataSn) {
                return new DataOutError("DataSN: " + pdu.dataSn() + " (expected: " + unsolicitedDataSn + ")", true);
            }
            if (pdu.bufferOffset() != received) {
                return error("BufferOffset: " + pdu.bufferOffset() + " (expected: " + received + ")");
            }
            if (received + length > unsolicitedLimit) {
                return error("unsolicited data: " + (received + length) + " bytes (expected: <= FirstBurstLength "
                        + unsolicitedLimit + ")");
            }
            unsolicitedDataSn++;
            add(pdu.bufferOffset(), pdu.data());
            if (pdu.finalFlag() || received == unsolicitedLimit) {
                unsolicitedDone = true;
                nextR2tOffset = received;
                sendR2ts();
            }
        } else {
            Burst burst = null;
            for (Burst b : bursts) {
                if (b.ttt == pdu.ttt()) {
                    burst = b;
                }
            }
            if (burst == null) {
                return error("TTT: 0x" + Integer.toHexString(pdu.ttt()) + " (expected: an outstanding R2T)");
            }
            if (pdu.dataSn() != burst.nextDataSn) {
                return new DataOutError("DataSN: " + pdu.dataSn() + " (expected: " + burst.nextDataSn + ")", true);
            }
            if (pdu.bufferOffset() != burst.offset + burst.received) {
                return error("BufferOffset: " + pdu.bufferOffset() + " (expected: " + (burst.offset + burst.received)
                        + ")");
            }
            if (burst.received + length > burst.length) {
                return error("Data-Out beyond the R2T: " + (burst.received + length) + " bytes (expected: <= "
                        + burst.length + ")");
            }
            burst.nextDataSn++;
            burst.received += length;
            add(pdu.bufferOffset(), pdu.data());
            if (burst.received == burst.length) {
                bursts.remove(burst);
                sendR2ts();
            }
        }
        deliverIfComplete();
        return null;
    }

    private static DataOutError error(String message) {
        return new DataOutError(message, false);
    }

    private void add(int offset, ByteBuf data) {
        if (data.isReadable()) {
            pieces.add(new Piece(offset, data.retainedSlice()));
            received += data.readableBytes();
        }
    }

    /** §11.8: ask for what is missing, at most MaxOutstandingR2T bursts of MaxBurstLength at a time. */
    private void sendR2ts() {
        if (finished || dataFuture == null || !unsolicitedDone) {
            return;
        }
        SessionParameters p = connection.parameters();
        while (bursts.size() < p.maxOutstandingR2T() && nextR2tOffset < expectedLength) {
            int length = Math.min(p.maxBurstLength(), expectedLength - nextR2tOffset);
            Burst burst = new Burst(connection.nextTargetTransferTag(), nextR2tOffset, length);
            bursts.add(burst);
            connection.send(new ReadyToTransfer(lun, itt, burst.ttt, connection.statSn(), connection.expCmdSn(),
                    connection.maxCmdSn(), r2tSn++, burst.offset, burst.length));
            nextR2tOffset += length;
        }
        connection.flush();
    }

    private void deliverIfComplete() {
        if (dataFuture == null || dataFuture.isDone() || received < expectedLength) {
            return;
        }
        ByteBuf all;
        if (pieces.size() == 1) { // immediate data or one Data-Out PDU: the slice itself, no composite
            all = pieces.get(0).data;
        } else {
            pieces.sort((a, b) -> Integer.compare(a.offset, b.offset));
            CompositeByteBuf composite = connection.alloc().compositeDirectBuffer(Math.max(2, pieces.size()));
            for (Piece p : pieces) {
                composite.addComponent(true, p.data);
            }
            all = composite;
        }
        pieces.clear();
        if (!dataFuture.complete(all)) {
            all.release();
        }
    }

    // ---- Data-In and status ----

    private void respond(ScsiResponse response) {
        ByteBuf data = response.data();
        try {
            ScsiStatus status = response.status();
            boolean readsData = direction == DataDirection.READ || direction == DataDirection.BIDIRECTIONAL
                    || (direction == DataDirection.NONE && data != null);
            int readExpected = direction == DataDirection.BIDIRECTIONAL ? bidiReadLength : expectedLength;
            int available = data == null ? 0 : data.readableBytes();
            int toSend = readsData ? Math.min(available, readExpected) : 0;
            // Residuals (RFC 7143 §11.4.5): Data-In against its expected length; otherwise the length the CDB
            // asked for against the expected length.
            int readResidual = readsData ? available - readExpected : 0;
            int writeResidual = direction == DataDirection.WRITE || direction == DataDirection.BIDIRECTIONAL
                    || (direction == DataDirection.NONE && data == null)
                    ? response.transferLength() - expectedLength : 0;
            int residual = direction == DataDirection.BIDIRECTIONAL ? writeResidual
                    : readsData ? readResidual : writeResidual;
            boolean collapse = status == ScsiStatus.GOOD && response.sense() == null && toSend > 0
                    && direction != DataDirection.BIDIRECTIONAL;
            SessionParameters p = connection.parameters();
            int dataSn = 0;
            int sequence = 0;
            for (int offset = 0; offset < toSend; ) {
                int length = Math.min(Math.min(p.initiatorMaxRecvDataSegmentLength(), toSend - offset),
                        p.maxBurstLength() - sequence);
                boolean last = offset + length == toSend;
                sequence += length;
                boolean endOfSequence = last || sequence == p.maxBurstLength(); // F bit, §11.7.1
                if (endOfSequence) {
                    sequence = 0;
                }
                // one PDU for the whole Data-In (the usual case): hand over the buffer itself, no slice
                ByteBuf slice = offset == 0 && length == available ? data.retain()
                        : data.retainedSlice(data.readerIndex() + offset, length);
                if (last && collapse) {
                    connection.send(new DataIn(true, false, residual > 0, residual < 0, true, status.code(), lun, itt,
                            IscsiPdu.RESERVED_TAG, connection.nextStatSn(), connection.expCmdSn(),
                            connection.maxCmdSn(), dataSn++, offset, Math.abs(residual), slice));
                } else {
                    connection.send(new DataIn(endOfSequence, false, false, false, false, 0, lun, itt,
                            IscsiPdu.RESERVED_TAG, 0, connection.expCmdSn(), connection.maxCmdSn(), dataSn++, offset,
                            0, slice));
                }
                offset += length;
            }
            if (!collapse) {
                byte[] sense = response.sense();
                ByteBuf senseData = null;
                if (sense != null && sense.length > 0) { // §11.4.7: SenseLength then sense data
                    senseData = connection.alloc().buffer(2 + sense.length).writeShort(sense.length).writeBytes(sense);
                }
                int bidiResidual = direction == DataDirection.BIDIRECTIONAL ? readResidual : 0;
                connection.send(new ScsiResponsePdu(bidiResidual > 0, bidiResidual < 0, residual > 0, residual < 0,
                        ScsiResponsePdu.COMMAND_COMPLETED, status.code(), itt, 0, connection.nextStatSn(),
                        connection.expCmdSn(), connection.maxCmdSn(), readsData ? dataSn : r2tSn,
                        Math.abs(bidiResidual), Math.abs(residual), senseData));
            }
            connection.flush();
        } finally {
            ReferenceCountUtil.release(data);
        }
    }

    @Override
    public String toString() {
        return "IscsiTask[itt=0x" + Integer.toHexString(itt) + ", direction=" + direction + ", expectedLength="
                + expectedLength + ", received=" + received + ", finished=" + finished + "]";
    }
}
