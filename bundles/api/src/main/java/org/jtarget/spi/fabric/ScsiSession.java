package org.jtarget.spi.fabric;

import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.osgi.annotation.versioning.ProviderType;

/** An I_T nexus as the core serves it. Implemented by the core; thread-safe. */
@ProviderType
public interface ScsiSession {
    /**
     * Submits a command. The core answers through {@link ScsiTask#complete} exactly once, or calls
     * {@link ScsiTask#aborted()} when a task management function or {@link #close()} ended it (never
     * both). The core may call back before this method returns, on this thread; or later, on any thread.
     * Commands run in the order of their task attributes (SAM-5 8.6), not necessarily in submission order;
     * a fabric with command numbering (iSCSI CmdSN) submits in that order. After {@link #close()} a
     * submitted task is aborted at once.
     */
    void submit(ScsiTask task);

    /**
     * Runs a task management function (SAM-5 7).
     *
     * @param lun           the LUN addressed (ignored for target-wide functions)
     * @param referencedTag the task tag for ABORT TASK and QUERY TASK
     * @return completes (on any thread) once every task the function aborted got {@link ScsiTask#aborted()};
     *         a task whose backstore request does not answer is given up after a grace period, so the
     *         stage always completes
     */
    CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction function, long lun, long referencedTag);

    /**
     * Ends the nexus: aborts what is in flight (their tasks get {@link ScsiTask#aborted()}, possibly after
     * this method returned) and waits for nothing. Idempotent; call it whenever the fabric's connection
     * ends, also after the core closed the {@link FabricSession}.
     */
    void close();
}
