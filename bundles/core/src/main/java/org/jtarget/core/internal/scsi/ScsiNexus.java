package org.jtarget.core.internal.scsi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.tmr.TaskManagement;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiTask;

/** An I_T nexus: submits commands through the pipeline and tracks them by tag for task management. */
public final class ScsiNexus implements ScsiEngine.Nexus {
    private final NexusInfo info;
    private final LunMap luns;
    private final FabricSession fabricSession;
    private final CommandPipeline pipeline;
    private final TaskManagement taskManagement;
    private final Map<Long, Command> inFlight = new ConcurrentHashMap<>();
    private final Set<ScsiLogicalUnit> touched = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final org.jtarget.core.internal.spc.CopyResults copyResults = new org.jtarget.core.internal.spc.CopyResults();

    ScsiNexus(NexusInfo info, LunMap luns, FabricSession fabricSession, CommandPipeline pipeline,
              TaskManagement taskManagement) {
        this.info = Objects.requireNonNull(info, "info");
        this.luns = Objects.requireNonNull(luns, "luns");
        this.fabricSession = fabricSession;
        this.pipeline = pipeline;
        this.taskManagement = taskManagement;
    }

    @Override
    public NexusInfo info() {
        return info;
    }

    public LunMap luns() {
        return luns;
    }

    public FabricSession fabricSession() {
        return fabricSession;
    }

    public CommandPipeline pipeline() {
        return pipeline;
    }

    /** The task manager, which also aborts the tasks of preempted I_T nexuses (PREEMPT AND ABORT). */
    public TaskManagement taskManagement() {
        return taskManagement;
    }

    @Override
    public void submit(ScsiTask task) {
        pipeline.submit(this, task);
    }

    @Override
    public CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction function, long lun,
                                                                  long referencedTag) {
        return taskManagement.execute(this, function, lun, referencedTag);
    }

    @Override
    public void lunsChanged() {
        for (ScsiLogicalUnit lu : touched) {
            lu.unitAttentions().raise(this, SenseReason.REPORTED_LUNS_DATA_HAS_CHANGED);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Command c : new ArrayList<>(inFlight.values())) {
            taskManagement.abort(c);
        }
        for (ScsiLogicalUnit lu : touched) {
            lu.unitAttentions().unregister(this);
            lu.release(this);
            lu.nexusLost(this);
        }
        touched.clear();
    }

    /** EXTENDED COPY results held for RECEIVE COPY RESULTS (SPC-4 6.18: per I_T nexus). */
    public org.jtarget.core.internal.spc.CopyResults copyResults() {
        return copyResults;
    }

    public boolean closed() {
        return closed;
    }

    /** First command to an LU: its unit attention queue starts with POWER ON OCCURRED. */
    void touch(ScsiLogicalUnit lu) {
        if (touched.add(lu)) {
            lu.unitAttentions().register(this);
        }
    }

    /** The LUs this nexus has addressed (its unit attention queues). */
    public Set<ScsiLogicalUnit> touched() {
        return touched;
    }

    void track(Command c) {
        inFlight.put(c.tag(), c);
    }

    void untrack(Command c) {
        inFlight.remove(c.tag(), c);
    }

    public Command find(long tag) {
        return inFlight.get(tag);
    }

    /** Commands in flight now. */
    public List<Command> inFlight() {
        return new ArrayList<>(inFlight.values());
    }

    @Override
    public String toString() {
        return "ScsiNexus(" + info.initiatorPortName() + " -> " + info.targetPortName() + ")";
    }
}
