package org.jtarget.core.internal.tmr;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.scsi.CommandPipeline;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.ScsiNexus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;

/**
 * Task management functions (SAM-5 7, LIO target_core_tmr.c). A function completes once every task it
 * aborted has ended: tasks not yet running end at once, running ones when their backstore call returns.
 * Aborted tasks get {@link org.jtarget.spi.fabric.ScsiTask#aborted()}, never a status.
 */
public final class TaskManagement {
    /** The functions served, for REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36). */
    public static final Set<TaskManagementFunction> SUPPORTED = Set.of(TaskManagementFunction.ABORT_TASK,
            TaskManagementFunction.ABORT_TASK_SET, TaskManagementFunction.CLEAR_TASK_SET,
            TaskManagementFunction.LOGICAL_UNIT_RESET, TaskManagementFunction.TARGET_WARM_RESET,
            TaskManagementFunction.TARGET_COLD_RESET,
            TaskManagementFunction.I_T_NEXUS_RESET, TaskManagementFunction.QUERY_TASK,
            TaskManagementFunction.QUERY_TASK_SET);

    private final CommandPipeline pipeline;

    public TaskManagement(CommandPipeline pipeline) {
        this.pipeline = pipeline;
    }

    public CompletionStage<TaskManagementResponse> execute(ScsiNexus nexus, TaskManagementFunction f, long lun,
                                                           long tag) {
        if (f == null || !SUPPORTED.contains(f)) {
            return done(TaskManagementResponse.FUNCTION_NOT_SUPPORTED);
        }
        switch (f) {
            case TARGET_WARM_RESET:
            case TARGET_COLD_RESET: // SAM-5 7.10/7.11: for a virtual device both reset every LU reached
                return targetReset(nexus);
            case I_T_NEXUS_RESET:
                return nexusReset(nexus);
            default:
                break;
        }
        int lunId = CommandPipeline.decodeLun(lun);
        LogicalUnit mapped = lunId < 0 ? null : nexus.luns().get(lunId);
        if (!(mapped instanceof ScsiLogicalUnit lu)) {
            return done(TaskManagementResponse.LUN_DOES_NOT_EXIST);
        }
        switch (f) {
            case ABORT_TASK: {
                Command c = nexus.find(tag);
                if (c == null || c.lu() != lu) {
                    return done(TaskManagementResponse.TASK_DOES_NOT_EXIST);
                }
                return afterAll(List.of(abort(c)), TaskManagementResponse.FUNCTION_COMPLETE);
            }
            case QUERY_TASK: {
                Command c = nexus.find(tag);
                return done(c != null && c.lu() == lu ? TaskManagementResponse.FUNCTION_SUCCEEDED
                        : TaskManagementResponse.FUNCTION_COMPLETE);
            }
            case QUERY_TASK_SET: {
                for (Command c : nexus.inFlight()) {
                    if (c.lu() == lu) {
                        return done(TaskManagementResponse.FUNCTION_SUCCEEDED);
                    }
                }
                return done(TaskManagementResponse.FUNCTION_COMPLETE);
            }
            case ABORT_TASK_SET: // SAM-5 7.3: this nexus's tasks on the LU
                return afterAll(abortAll(List.of(nexus), lu), TaskManagementResponse.FUNCTION_COMPLETE);
            case CLEAR_TASK_SET: { // SAM-5 7.5: every nexus's tasks; the others learn by UA (TAS=0)
                List<CompletableFuture<Void>> ended = new ArrayList<>();
                for (ScsiNexus other : nexusesOf(lu, nexus)) {
                    List<CompletableFuture<Void>> theirs = abortAll(List.of(other), lu);
                    if (other != nexus && !theirs.isEmpty()) {
                        lu.unitAttentions().raise(other, SenseReason.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
                    }
                    ended.addAll(theirs);
                }
                return afterAll(ended, TaskManagementResponse.FUNCTION_COMPLETE);
            }
            case LOGICAL_UNIT_RESET:
                return afterAll(resetLu(lu, nexus, SenseReason.BUS_DEVICE_RESET_FUNCTION_OCCURRED),
                        TaskManagementResponse.FUNCTION_COMPLETE);
            default:
                return done(TaskManagementResponse.FUNCTION_NOT_SUPPORTED);
        }
    }

    /** SAM-5 7.7: abort every task on the LU, drop SPC-2 reservations, UA for every I_T nexus. */
    private List<CompletableFuture<Void>> resetLu(ScsiLogicalUnit lu, ScsiNexus requester, SenseReason ua) {
        List<CompletableFuture<Void>> ended = abortAll(nexusesOf(lu, requester), lu);
        lu.clearReservation();
        lu.unitAttentions().raiseAll(ua, null);
        return ended;
    }

    /** SAM-5 7.10 (TARGET RESET, here warm): a reset of every LU this nexus reaches. */
    private CompletionStage<TaskManagementResponse> targetReset(ScsiNexus nexus) {
        List<CompletableFuture<Void>> ended = new ArrayList<>();
        for (int id : nexus.luns().luns()) {
            if (nexus.luns().get(id) instanceof ScsiLogicalUnit lu) {
                ended.addAll(resetLu(lu, nexus, SenseReason.POWER_ON_RESET_OR_BUS_DEVICE_RESET));
            }
        }
        return afterAll(ended, TaskManagementResponse.FUNCTION_COMPLETE);
    }

    /** SAM-5 7.12: abort this nexus's tasks, release its SPC-2 reservations, I_T NEXUS LOSS OCCURRED. */
    private CompletionStage<TaskManagementResponse> nexusReset(ScsiNexus nexus) {
        List<CompletableFuture<Void>> ended = new ArrayList<>();
        for (Command c : nexus.inFlight()) {
            ended.add(abort(c));
        }
        for (ScsiLogicalUnit lu : nexus.touched()) {
            lu.release(nexus);
            lu.nexusLost(nexus);
            lu.unitAttentions().raise(nexus, SenseReason.I_T_NEXUS_LOSS_OCCURRED);
        }
        return afterAll(ended, TaskManagementResponse.FUNCTION_COMPLETE);
    }

    /** The nexuses with a UA queue (so possibly tasks) on {@code lu}, always including {@code self}. */
    private static Set<ScsiNexus> nexusesOf(ScsiLogicalUnit lu, ScsiNexus self) {
        Set<ScsiNexus> all = new LinkedHashSet<>(lu.unitAttentions().nexuses());
        all.add(self);
        return all;
    }

    /**
     * Aborts every task of {@code nexuses} on {@code lu} (also PREEMPT AND ABORT, SPC-4 5.9.11.5); the
     * futures complete as each task ends, reported to its initiator as aborted.
     */
    public List<CompletableFuture<Void>> abortAll(Iterable<ScsiNexus> nexuses, ScsiLogicalUnit lu) {
        List<CompletableFuture<Void>> ended = new ArrayList<>();
        for (ScsiNexus n : nexuses) {
            for (Command c : n.inFlight()) {
                if (c.lu() == lu) {
                    ended.add(abort(c));
                }
            }
        }
        return ended;
    }

    /**
     * Aborts one command; completes when it has ended. A running command whose backstore request has not
     * answered within {@value #BACKSTORE_GRACE_MILLIS} ms (a remote server that went silent) has its
     * requests cancelled, so the function completes within a bounded time, well inside the initiators'
     * task management timeouts (open-iscsi: 15 s for ABORT TASK).
     */
    public CompletableFuture<Void> abort(Command c) {
        int was = c.abort();
        if (was == Command.WAITING || was == Command.DATA_WAIT) {
            pipeline.finishAborted(c, null);
        } else if (was == Command.RUNNING) {
            c.runAbortHook();
            if (!c.finished().isDone()) {
                CompletableFuture.delayedExecutor(BACKSTORE_GRACE_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
                    if (!c.finished().isDone()) {
                        c.cancelBackstoreRequests();
                    }
                });
            }
        }
        return c.finished();
    }

    /** How long an aborted command's backstore request may take before it is cancelled. */
    public static final long BACKSTORE_GRACE_MILLIS = 5000;

    private static CompletionStage<TaskManagementResponse> afterAll(List<CompletableFuture<Void>> ended,
                                                                    TaskManagementResponse response) {
        if (ended.isEmpty()) {
            return done(response);
        }
        return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private static CompletionStage<TaskManagementResponse> done(TaskManagementResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
