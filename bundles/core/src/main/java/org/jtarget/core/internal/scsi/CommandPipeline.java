package org.jtarget.core.internal.scsi;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.OpcodeTable;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.sense.ScsiException;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.sense.SenseData;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed path of every command, in the order current LIO uses: LUN lookup, parse, task attribute
 * ordering, then at the moment it actually runs: the gates ({@link CommandGates}: unit attention, ALUA
 * state, readiness, reservations, write protection), Data-Out, execute, complete. Runs on the caller's thread; continues on whatever thread
 * completes a backstore or Data-Out stage.
 */
public final class CommandPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(CommandPipeline.class);
    /** System.nanoTime() of the last "out of buffer memory" warning (racy on purpose: it only thins the log). */
    private static volatile long lastOutOfMemoryLog = System.nanoTime() - 2_000_000_000L;

    private final OpcodeTable table;

    public CommandPipeline(OpcodeTable table) {
        this.table = table;
    }

    public OpcodeTable table() {
        return table;
    }

    /** SAM-5 4.7: single-level peripheral (00b) or flat (01b) LUN; -1 for anything else. */
    public static int decodeLun(long lun) {
        if ((lun & 0x0000_FFFF_FFFF_FFFFL) != 0) {
            return -1;
        }
        int first = (int) (lun >>> 48);
        return switch (first >>> 14) {
            case 0 -> (first & 0x3F00) == 0 ? first & 0xFF : -1; // peripheral, BUS IDENTIFIER 0
            case 1 -> first & 0x3FFF; // flat space
            default -> -1;
        };
    }

    /** SAM-5 4.7: the 8-byte LUN for a LUN number, as REPORT LUNS lists it (LIO int_to_scsilun). */
    public static long encodeLun(int lun) {
        return lun < 256 ? (long) lun << 48 : ((long) (0x4000 | (lun & 0x3FFF))) << 48;
    }

    public void submit(ScsiNexus nexus, ScsiTask task) {
        int lun = decodeLun(task.lun());
        ScsiLogicalUnit lu = lun >= 0 ? nexus.luns().get(lun) instanceof ScsiLogicalUnit s ? s : null : null;
        Command c = new Command(nexus, task, lu, lun);
        if (nexus.closed()) {
            task.aborted();
            return;
        }
        nexus.track(c);
        Cdb cdb;
        try {
            cdb = new Cdb(task.cdb());
        } catch (IllegalArgumentException e) {
            fail(c, Sense.of(SenseReason.INVALID_COMMAND_OPERATION_CODE));
            return;
        }
        // 1. LUN lookup: only INQUIRY, REPORT LUNS and REQUEST SENSE answer for an unmapped LUN (SPC-4 6.6.2).
        if (lu == null) {
            OpcodeDescriptor d = table.find(cdb.opcode(), table.usesServiceAction(cdb.opcode()) ? cdb.serviceAction() : -1);
            if (d == null || !d.hasFlag(OpcodeDescriptor.ANY_LUN)) {
                fail(c, Sense.of(SenseReason.LOGICAL_UNIT_NOT_SUPPORTED));
                return;
            }
        } else {
            nexus.touch(lu);
        }
        // 2. parse
        try {
            c.parsed(table.parse(cdb, lu));
        } catch (ScsiException e) {
            fail(c, e.sense());
            return;
        } catch (RuntimeException e) {
            LOG.warn("parse of {} failed", cdb, e);
            fail(c, Sense.of(SenseReason.INVALID_FIELD_IN_CDB));
            return;
        }
        // 3. task attribute ordering
        if (lu == null) {
            start(c);
        } else {
            c.entered(true);
            lu.taskSet().enter(c, this::start);
        }
    }

    /** Runs when ordering lets the command go: the gates, Data-Out, then the handler. */
    private void start(Command c) {
        if (!c.transition(Command.WAITING, Command.RUNNING)) {
            leaveAndUntrack(c); // aborted while waiting; the aborter answered, leave is idempotent
            return;
        }
        ScsiLogicalUnit lu = c.lu();
        ParsedCommand p = c.parsed();
        if (lu != null) {
            // 4. the gates: unit attention, ALUA state, sanitize, readiness, reservations, write protection
            CommandGates.Refusal gate = CommandGates.check(c, lu, c.nexus());
            if (gate != null) {
                if (gate.sense() != null) {
                    fail(c, gate.sense());
                } else {
                    finish(c, new ScsiResponse(gate.status(), null, null, 0), null);
                }
                return;
            }
        }
        // 5. Data-Out: the transport's expected length against the CDB's (see refusesDataOutLength)
        ScsiTask task = c.task();
        DataDirection dir = task.direction();
        SenseReason refused = refusesDataOutLength(p, task);
        if (refused != null) {
            finish(c, checkCondition(c.lu(), Sense.of(refused), p.dataOutLength()), null);
            return;
        }
        if (p.dataOutLength() > 0 && task.expectedDataLength() > 0
                && (dir == DataDirection.WRITE || dir == DataDirection.BIDIRECTIONAL)) {
            if (!c.transition(Command.RUNNING, Command.DATA_WAIT)) {
                finishAborted(c, null);
                return;
            }
            CompletionStage<ByteBuf> data;
            try {
                data = task.receiveData();
            } catch (RuntimeException e) {
                data = CompletableFuture.failedFuture(e);
            }
            data.whenComplete((buf, err) -> {
                if (!c.transition(Command.DATA_WAIT, Command.RUNNING)) {
                    if (buf != null) {
                        buf.release(); // aborted meanwhile; the aborter ended the command
                    }
                    return;
                }
                if (err != null) {
                    fail(c, Sense.of(SenseReason.DATA_PHASE_ERROR));
                    return;
                }
                c.dataOut(buf);
                execute(c);
            });
            return;
        }
        execute(c);
    }

    /**
     * Why a command's Data-Out length (the transport's expected length E, e.g. iSCSI EDTL) cannot serve it,
     * or null when it runs. A refused command ends in CHECK CONDITION before any data is requested or
     * written; the response carries the CDB's length L, so the fabric reports the residual (RFC 7143 11.4.5:
     * overflow L - E, underflow E - L). Refused:
     * <ul>
     * <li>a block write (WRITE, WRITE AND VERIFY, ORWRITE, WRITE ATOMIC) with E &lt; L and E not a whole
     *     number of blocks: the bytes of the partial block would be transferred yet not written, and GOOD
     *     would claim them. ILLEGAL REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT (FCP-4 FCP_DL rule b);</li>
     * <li>a block write whose data comes in the wrong direction (E &gt; 0 without Data-Out): the same;</li>
     * <li>any Data-Out with E &gt; L beyond the MAXIMUM TRANSFER LENGTH (VPD B0h, {@link Inquiry#MAX_TRANSFER_BYTES}):
     *     the transport would gather all of E (up to 4 GiB for one command: iSCSI's EDTL is unsigned) before
     *     the core sees it, memory a peer could make us hold for nothing. The same sense;</li>
     * <li>a command whose CDB fixes its Data-Out exactly (WRITE SAME: one block; COMPARE AND WRITE: twice
     *     NUMBER OF BLOCKS) when E != L: INVALID FIELD IN CDB, as before and as libiscsi's CompareAndWrite
     *     tests expect (their NUMBER OF BLOCKS 256 wraps to 0 in the byte).</li>
     * </ul>
     * Everything else runs (FCP-4 FCP_DL rule a): a block write with E &lt; L in whole blocks writes those
     * blocks (overflow residual L - E, also for E = 0), with E &gt; L it writes L bytes (underflow E - L).
     */
    static SenseReason refusesDataOutLength(ParsedCommand p, ScsiTask task) {
        DataDirection dir = task.direction();
        boolean out = dir == DataDirection.WRITE || dir == DataDirection.BIDIRECTIONAL;
        int expected = out ? task.expectedDataLength() : 0;
        int length = p.dataOutLength();
        if (p.hasFlag(OpcodeDescriptor.EXACT_DATA_OUT)) {
            return expected != length ? SenseReason.INVALID_FIELD_IN_CDB : null;
        }
        if (Integer.toUnsignedLong(expected) > Math.max(length, Inquiry.MAX_TRANSFER_BYTES)) {
            return SenseReason.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT;
        }
        boolean blockWrite = p.hasFlag(OpcodeDescriptor.WRITE) && p.blocks() > 0 && length > 0
                && length % p.blocks() == 0;
        if (!blockWrite) {
            return null;
        }
        int blockSize = (int) (length / p.blocks());
        boolean refused = !out && task.expectedDataLength() > 0 || expected < length && expected % blockSize != 0;
        return refused ? SenseReason.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT : null;
    }

    private void execute(Command c) {
        CompletionStage<ScsiResponse> result;
        try {
            result = c.parsed().handler().execute(c);
        } catch (RuntimeException | OutOfMemoryError e) {
            // OutOfMemoryError: a buffer the handler allocates (Command.allocate) is beyond the direct memory
            // limit. Thrown on, it would leave the command in the task set for ever, on whatever thread started it.
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((r, t) -> finish(c, r, t));
    }

    private void fail(Command c, Sense sense) {
        finish(c, null, sense.exception());
    }

    /** Ends a command with its outcome (or its failure), unless it was aborted meanwhile. */
    private void finish(Command c, ScsiResponse response, Throwable failure) {
        if (failure != null && outOfMemory(failure)) {
            if (response != null && response.data() != null) {
                response.data().release();
            }
            // SAM-5 5.3.1: the logical unit lacks the resources (buffer memory) for this command now; initiators
            // retry TASK SET FULL, and the memory comes back as other commands' data is sent
            long now = System.nanoTime();
            if (now - lastOutOfMemoryLog > 1_000_000_000L) {
                lastOutOfMemoryLog = now;
                LOG.warn("{}: {}; answered TASK SET FULL (logged at most once a second)", c, failure.toString());
            }
            failure = null;
            response = new ScsiResponse(ScsiStatus.TASK_SET_FULL, null, null, 0);
        }
        if (failure != null && busy(failure)) {
            // the backstore has too much queued (BackstoreException.busy): SAM-5 5.3.1 TASK SET FULL when this
            // nexus has other commands in the task set (the initiator lowers its queue depth), else BUSY
            if (response != null && response.data() != null) {
                response.data().release();
            }
            failure = null;
            boolean others = false;
            for (Command other : c.nexus().inFlight()) {
                if (other != c && other.lu() == c.lu()) {
                    others = true;
                    break;
                }
            }
            response = new ScsiResponse(others ? ScsiStatus.TASK_SET_FULL : ScsiStatus.BUSY, null, null, 0);
        }
        if (failure != null) {
            if (response != null && response.data() != null) {
                response.data().release();
            }
            Sense sense = SenseData.fromThrowable(failure);
            if (sense.reason() == SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE
                    && !(failure instanceof ScsiException)) {
                LOG.warn("{} failed", c, failure);
            }
            response = checkCondition(c.lu(), sense);
        }
        release(c);
        if (c.transition(Command.RUNNING, Command.DONE) || c.transition(Command.WAITING, Command.DONE)) {
            ScsiTask task = c.task();
            leaveAndUntrack(c);
            task.complete(response);
            c.finished().complete(null);
        } else {
            finishAborted(c, response);
        }
    }

    private static boolean busy(Throwable t) {
        while (t.getCause() != null && !(t instanceof BackstoreException)) {
            t = t.getCause();
        }
        return t instanceof BackstoreException be && be.isBusy();
    }

    private static boolean outOfMemory(Throwable t) {
        while (t.getCause() != null && !(t instanceof OutOfMemoryError)) {
            t = t.getCause();
        }
        return t instanceof OutOfMemoryError;
    }

    /** Ends an aborted command: no response, the fabric hears {@link ScsiTask#aborted()}. */
    public void finishAborted(Command c, ScsiResponse response) {
        if (response != null && response.data() != null) {
            response.data().release();
        }
        release(c);
        leaveAndUntrack(c);
        if (!c.finished().isDone()) {
            c.task().aborted();
            c.finished().complete(null);
        }
    }

    private void leaveAndUntrack(Command c) {
        if (c.entered()) {
            c.lu().taskSet().leave(c, this::start); // idempotent
        }
        c.nexus().untrack(c);
    }

    private static void release(Command c) {
        ByteBuf d = c.takeDataOut();
        if (d != null) {
            d.release();
        }
        ScsiLogicalUnit.Lease l = c.takeLease();
        if (l != null) {
            l.release();
        }
    }

    /** CHECK CONDITION with sense in the format the LU's D_SENSE bit selects (SPC-4 7.5.8). */
    public static ScsiResponse checkCondition(ScsiLogicalUnit lu, Sense sense) {
        return checkCondition(lu, sense, 0);
    }

    /** As {@link #checkCondition(ScsiLogicalUnit, Sense)}, with the Data-Out length the CDB asked for. */
    static ScsiResponse checkCondition(ScsiLogicalUnit lu, Sense sense, int transferLength) {
        boolean descriptor = lu != null && lu.modePages().descriptorSense();
        return new ScsiResponse(ScsiStatus.CHECK_CONDITION, null, SenseData.encode(sense, descriptor), transferLength);
    }
}
