package org.jtarget.iscsi.internal.session;

import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.ScsiSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session's tasks (the SAM-5 task set), by Initiator Task Tag: SCSI Commands (RFC 7143 §11.3) become
 * {@link IscsiTask}s and go to the core, or wait in the {@link ConnectionBudget} while the peer does not read;
 * Data-Out PDUs (§11.7) go to their task, or are held for a command still waiting for its CmdSN turn in
 * {@link CommandOrdering}; task management (§11.5, §11.6; ERL 0, so no TASK REASSIGN) ends them. A task that
 * counts against the command window holds MaxCmdSN back (§4.2.2.1) from its start to its end.
 *
 * <p>Single-threaded on the connection's event loop, like {@link IscsiConnection}; the core's answers hop onto
 * it ({@link IscsiConnection#runOnLoop}). It holds no buffers: each task owns its data.
 */
final class TaskSet {
    /** The connection's log: log configuration and watchers address these lines by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(IscsiConnection.class);

    private final IscsiConnection connection;
    private final CommandOrdering ordering;
    private final IntObjectMap<IscsiTask> tasks = new IntObjectHashMap<>();

    TaskSet(IscsiConnection connection, CommandOrdering ordering) {
        this.connection = connection;
        this.ordering = ordering;
    }

    /** The task with this Initiator Task Tag, or null. */
    IscsiTask get(int itt) {
        return tasks.get(itt);
    }

    /** A SCSI Command (§11.3) in its CmdSN turn: a new task, handed to the core unless it must wait. */
    void onScsiCommand(ScsiCommand command) {
        SessionParameters parameters = connection.parameters();
        ConnectionBudget budget = connection.budget();
        if (connection.discovery()) { // §6.3: discovery sessions carry Text and Logout only
            connection.reject(Reject.PROTOCOL_ERROR, command);
            return;
        }
        if (tasks.containsKey(command.itt())) {
            connection.reject(Reject.TASK_IN_PROGRESS, command);
            return;
        }
        int immediate = command.data().readableBytes();
        if (immediate > 0 && (!parameters.immediateData() || immediate > parameters.firstBurstLength()
                || immediate > command.expectedDataLength())) { // §13.11, §13.14
            connection.reject(Reject.PROTOCOL_ERROR, command);
            return;
        }
        if (connection.scsiSession() == null) { // ended by terminate() on another thread (§6.3.5): closing
            return;
        }
        int unsolicited = ConnectionBudget.unsolicitedOf(command, parameters);
        if (!budget.reserve(unsolicited)) {
            // SAM-5 5.3.1 TASK SET FULL: the initiator retries later (Linux lowers its queue depth); its
            // immediate data goes with this PDU and any unsolicited Data-Out finds no task and is dropped.
            connection.send(new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.COMMAND_COMPLETED,
                    ScsiStatus.TASK_SET_FULL.code(), command.itt(), 0, connection.nextStatSn(), connection.expCmdSn(),
                    connection.maxCmdSn(), 0, 0, 0, null));
            connection.flush();
            return;
        }
        IscsiTask task = new IscsiTask(connection, command, parameters);
        tasks.put(task.itt(), task);
        if (task.countsAgainstWindow()) {
            ordering.commandStarted();
        }
        budget.started(task.itt(), unsolicited, ConnectionBudget.dataInOf(command));
        if (!budget.defer(task, connection.channel().isWritable())) {
            submit(task);
        }
    }

    /** Hands the deferred tasks that may run now to the core ({@code force}: all of them). */
    void submitDeferred(boolean force) {
        if (!connection.isClosed()) {
            connection.budget().submitDeferred(connection.channel(), force, this::submit);
        }
    }

    private void submit(IscsiTask task) {
        ScsiSession session = connection.scsiSession();
        if (connection.isClosed() || session == null) {
            return; // closing (terminate() on another thread, §6.3.5): cleanUp() ends the task
        }
        try {
            session.submit(task);
        } catch (RuntimeException e) {
            LOG.warn("core failed to accept {}", task, e);
            if (tasks.remove(task.itt()) == task) {
                task.connectionLost();
                if (task.countsAgainstWindow()) {
                    ordering.commandEnded();
                }
                connection.budget().ended(task);
                connection.send(new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.TARGET_FAILURE,
                        ScsiStatus.GOOD.code(), task.itt(), 0, connection.nextStatSn(), connection.expCmdSn(),
                        connection.maxCmdSn(), 0, 0, 0, null));
            }
        }
    }

    /** A Data-Out (§11.7) for a task, or held for a command still waiting for its CmdSN turn. */
    void onDataOut(DataOut pdu) {
        IscsiTask task = tasks.get(pdu.itt());
        if (task == null) {
            ScsiCommand queued = ordering.queuedCommand(pdu.itt());
            if (queued != null) {
                // Unsolicited data of a command still waiting for its CmdSN turn (§4.2.2.1 orders commands,
                // not their data): keep it until the command runs, or the command would wait for it forever.
                if (!connection.budget().holdEarly(pdu, queued, connection.parameters())) {
                    connection.reject(Reject.PROTOCOL_ERROR, pdu); // more than the command may bring (§13.14)
                }
                return;
            }
            LOG.debug("Data-Out for unknown ITT 0x{}: dropped", Integer.toHexString(pdu.itt()));
            return;
        }
        IscsiTask.DataOutError problem = task.onDataOut(pdu);
        if (problem == null) {
            return;
        }
        connection.protocolError("Data-Out error from " + NetworkText.quote(connection.initiatorName()) + ": "
                + problem.message());
        if (problem.sequence()) {
            // §7.9: a DataSN out of order implies a Data-Out lost to a digest error; ERL 0 cannot ask for it
            // again (§7.8 b): the PDU itself is sound (no Reject), the command ends with CHECK CONDITION,
            // PROTOCOL SERVICE CRC ERROR once the last Data-Out of its open sequences has come.
            task.failDataPhase(SenseReason.PROTOCOL_SERVICE_CRC_ERROR, true, pdu.ttt(), pdu.finalFlag());
        } else {
            // a broken rule: reject the PDU and end the command with ABORTED COMMAND / DATA PHASE
            // ERROR (§7.4: a Reject never ends a task by itself); the connection and the other commands go on.
            connection.reject(Reject.PROTOCOL_ERROR, pdu);
            task.failDataPhase(SenseReason.DATA_PHASE_ERROR, false, pdu.ttt(), pdu.finalFlag());
        }
    }

    /** A Task Management Function Request (§11.5) in its CmdSN turn (or immediate). */
    void onTaskManagement(TaskManagementRequest request) {
        TaskManagementFunction function = TaskManagementFunction.fromCode(request.function());
        if (connection.discovery()) {
            connection.reject(Reject.PROTOCOL_ERROR, request);
            return;
        }
        if (function == null) {
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_NOT_SUPPORTED);
            return;
        }
        if (function == TaskManagementFunction.TASK_REASSIGN) { // ERL 0 (§11.5.1)
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.TASK_REASSIGNMENT_NOT_SUPPORTED);
            return;
        }
        submitDeferred(true); // the core must know every task a TMF may name (SAM-5 7.1)
        IscsiTask stalled = function == TaskManagementFunction.ABORT_TASK ? tasks.get(request.referencedTaskTag())
                : null;
        if (stalled != null && stalled.abandonFailedDataPhase()) { // §7.8 b: the TMF concludes the task
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_COMPLETE);
            return;
        }
        abandonFailedDataPhases(function, request.lun());
        int ref = request.refCmdSn();
        if (function == TaskManagementFunction.ABORT_TASK && !tasks.containsKey(request.referencedTaskTag())
                && ordering.aheadInWindow(ref, request.cmdSn())) {
            // §11.5.1 b): the task is not running here, but its RefCmdSN lies in the command window and
            // before this TMF: that command is still on its way (or queued out of order). Consider its CmdSN
            // received (the command is dropped if it comes) and answer Function Complete, as LIO's
            // iscsit_tmr_abort_task does. A task already ended (RefCmdSN < ExpCmdSN) goes to the core below,
            // which answers TASK DOES NOT EXIST (§11.5.1 c).
            ordering.considerReceived(ref);
            sendTaskManagementResponse(request.itt(), TaskManagementResponse.FUNCTION_COMPLETE);
            return;
        }
        ScsiSession session = connection.scsiSession();
        if (session == null) { // ended by terminate() on another thread (§6.3.5 reinstatement, core): closing
            return;
        }
        session.taskManagement(function, request.lun(), request.referencedTaskTag() & 0xffffffffL)
                .whenComplete((response, failure) -> connection.runOnLoop(() -> {
                    if (failure != null) {
                        LOG.warn("task management {} failed", function, failure);
                    }
                    sendTaskManagementResponse(request.itt(),
                            response != null ? response : TaskManagementResponse.FUNCTION_REJECTED);
                }));
    }

    /**
     * A TMF that aborts many tasks also concludes the failed data phases waiting for their last Data-Out
     * (§7.8 b) among them: the core already answered those commands and will not abort them again.
     */
    private void abandonFailedDataPhases(TaskManagementFunction function, long lun) {
        boolean wholeTarget = function == TaskManagementFunction.TARGET_WARM_RESET
                || function == TaskManagementFunction.TARGET_COLD_RESET
                || function == TaskManagementFunction.I_T_NEXUS_RESET;
        boolean oneLu = function == TaskManagementFunction.ABORT_TASK_SET
                || function == TaskManagementFunction.CLEAR_TASK_SET
                || function == TaskManagementFunction.LOGICAL_UNIT_RESET;
        if (wholeTarget || oneLu) {
            for (IscsiTask task : new ArrayList<>(tasks.values())) {
                if (wholeTarget || task.lun() == lun) {
                    task.abandonFailedDataPhase();
                }
            }
        }
    }

    private void sendTaskManagementResponse(int itt, TaskManagementResponse response) {
        if (connection.isClosed()) {
            return;
        }
        connection.send(new TaskManagementResponsePdu(response.code(), itt, connection.nextStatSn(),
                connection.expCmdSn(), connection.maxCmdSn()));
        connection.flush();
    }

    /** {@link IscsiConnection#taskFinished}: the task ended (sent its status, or was aborted). */
    void finished(IscsiTask task) {
        if (tasks.get(task.itt()) == task) {
            tasks.remove(task.itt());
            if (task.countsAgainstWindow()) {
                ordering.commandEnded();
            }
            connection.budget().ended(task);
            submitDeferred(false);
        }
    }


    /** The connection ended: every task still here drops its data and fails a pending data request. */
    void connectionLost() {
        List<IscsiTask> lost = new ArrayList<>(tasks.values());
        tasks.clear();
        lost.forEach(IscsiTask::connectionLost);
    }
}
