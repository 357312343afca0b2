package org.jtarget.core.internal.cmd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.ScsiNexus;
import org.jtarget.core.internal.sense.ScsiException;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiTask;

/**
 * One command in flight (LIO's se_cmd): the fabric's task, where it is addressed, its parse result,
 * its Data-Out and its life-cycle state. Handlers read it; the pipeline owns it.
 *
 * <p>Buffers: {@link #dataOut()} belongs to the command and is released by the pipeline when the
 * command ends; Data-In buffers a handler allocates with {@link #allocate} go to the fabric with the
 * response.
 */
public final class Command {
    /** Not started: parsing or held back by task ordering. */
    public static final int WAITING = 0;
    /** Passing the gates or executing. */
    public static final int RUNNING = 1;
    /** Waiting for the fabric's Data-Out. */
    public static final int DATA_WAIT = 2;
    public static final int ABORTED = 3;
    public static final int DONE = 4;

    private final ScsiNexus nexus;
    private final ScsiTask task;
    private final ScsiLogicalUnit lu;
    private final int lun;
    private final TaskAttribute attribute;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private volatile ParsedCommand parsed;
    private volatile ByteBuf dataOut;
    private volatile ScsiLogicalUnit.Lease lease;
    private volatile Runnable abortHook;

    public Command(ScsiNexus nexus, ScsiTask task, ScsiLogicalUnit lu, int lun) {
        this.nexus = nexus;
        this.task = task;
        this.lu = lu;
        this.lun = lun;
        TaskAttribute a = task.attribute();
        this.attribute = a == null || a == TaskAttribute.UNTAGGED || a == TaskAttribute.ACA ? TaskAttribute.SIMPLE : a;
    }

    public ScsiNexus nexus() {
        return nexus;
    }

    public ScsiTask task() {
        return task;
    }

    /** The addressed LU, or null when no LU is mapped at {@link #lun()}. */
    public ScsiLogicalUnit lu() {
        return lu;
    }

    public int lun() {
        return lun;
    }

    public long tag() {
        return task.tag();
    }

    /** Task attribute for ordering; UNTAGGED and ACA are served as SIMPLE. */
    public TaskAttribute attribute() {
        return attribute;
    }

    public ParsedCommand parsed() {
        return parsed;
    }

    public void parsed(ParsedCommand p) {
        this.parsed = p;
    }

    public Cdb cdb() {
        return parsed.cdb();
    }

    /** The Data-Out (exactly the fabric's expected length), or null when there is none. */
    public ByteBuf dataOut() {
        return dataOut;
    }

    public void dataOut(ByteBuf buf) {
        this.dataOut = buf;
    }

    /** Data-Out bytes usable for this command: the lesser of what the CDB asks for and what arrived. */
    public int dataOutLength() {
        ByteBuf d = dataOut;
        return d == null ? 0 : Math.min(d.readableBytes(), parsed.dataOutLength());
    }

    /**
     * The backstore this command runs against (held since it started), or NOT READY. Its requests are
     * tracked, so that {@link #cancelBackstoreRequests()} can give up on them.
     */
    public Backstore backstore() {
        TrackedBackstore t = tracked;
        if (t != null) {
            return t;
        }
        ScsiLogicalUnit.Lease l = lease;
        if (l == null) {
            throw new ScsiException(SenseReason.LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION);
        }
        t = new TrackedBackstore(l.backstore());
        tracked = t;
        return t;
    }

    /**
     * Cancels the backstore requests of this command that have not completed (task management gave up
     * waiting for them): the command's stage then ends, and the late answers are the backstore's to drop.
     */
    public void cancelBackstoreRequests() {
        TrackedBackstore t = tracked;
        if (t != null) {
            t.cancelAll();
        }
    }

    private volatile TrackedBackstore tracked;

    public ScsiLogicalUnit.Lease lease() {
        return lease;
    }

    public void lease(ScsiLogicalUnit.Lease l) {
        this.lease = l;
    }

    public int state() {
        return state.get();
    }

    public boolean transition(int from, int to) {
        return state.compareAndSet(from, to);
    }

    /**
     * Marks the command aborted unless it already ended.
     *
     * @return the state it was in (the caller ends a WAITING or DATA_WAIT command itself; a RUNNING one
     *     ends when its handler completes), or ABORTED/DONE when this call changed nothing
     */
    public int abort() {
        for (;;) {
            int s = state.get();
            if (s == ABORTED || s == DONE) {
                return s;
            }
            if (state.compareAndSet(s, ABORTED)) {
                return s;
            }
        }
    }

    /**
     * For a handler whose work outlives the command (SANITIZE goes on after ABORT TASK or a reset,
     * SBC-3 4.11): {@code hook} ends the handler's stage at once when the running command is aborted.
     */
    public void onAbort(Runnable hook) {
        this.abortHook = hook;
        if (state.get() == ABORTED) {
            hook.run();
        }
    }

    /** Runs the abort hook, if any (the task manager calls it after aborting a RUNNING command). */
    public void runAbortHook() {
        Runnable h = abortHook;
        if (h != null) {
            h.run();
        }
    }

    /** Whether the command entered its LU's task set (and must leave it). */
    public boolean entered() {
        return entered;
    }

    public void entered(boolean e) {
        this.entered = e;
    }

    private volatile boolean entered;

    /** Takes the Data-Out for release (null when none or already taken). */
    public synchronized ByteBuf takeDataOut() {
        ByteBuf d = dataOut;
        dataOut = null;
        return d;
    }

    /** Takes the backstore lease for release (null when none or already taken). */
    public synchronized ScsiLogicalUnit.Lease takeLease() {
        ScsiLogicalUnit.Lease l = lease;
        lease = null;
        return l;
    }

    public boolean aborted() {
        return state.get() == ABORTED;
    }

    /** Completes once the command no longer runs (answered or aborted). */
    public CompletableFuture<Void> finished() {
        return finished;
    }

    /** The allocator of Data-In buffers (direct, pooled), also given to backstore reads. */
    public static io.netty.buffer.ByteBufAllocator allocator() {
        return PooledByteBufAllocator.DEFAULT;
    }

    /** A direct pooled buffer for Data-In (the fabric releases it). */
    public static ByteBuf allocate(int capacity) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(capacity, 0));
    }

    /** GOOD with Data-In cut to the allocation length (SPC-4 4.2.5.6). Takes ownership of {@code data}. */
    public CompletionStage<ScsiResponse> respond(ByteBuf data) {
        int alloc = parsed.allocationLength();
        if (data.writerIndex() > alloc) {
            data.writerIndex(Math.max(alloc, data.readerIndex()));
        }
        return CompletableFuture.completedFuture(new ScsiResponse(ScsiStatus.GOOD, data, null, 0));
    }

    /** GOOD without Data-In; the transfer length is the Data-Out the CDB asked for. */
    public CompletionStage<ScsiResponse> good() {
        return CompletableFuture.completedFuture(goodResponse());
    }

    public ScsiResponse goodResponse() {
        ParsedCommand p = parsed;
        return new ScsiResponse(ScsiStatus.GOOD, null, null, p == null ? 0 : p.dataOutLength());
    }

    @Override
    public String toString() {
        ParsedCommand p = parsed;
        return "Command(tag=0x" + Long.toHexString(task.tag()) + ", lun=" + lun + ", "
                + (p != null ? p.descriptor().name() : "unparsed") + ", state=" + state.get() + ")";
    }
}
