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
     * {@link ScsiTask#aborted()} when a task management function or {@link #close()} ended it.
     * The core may call back before this method returns.
     */
    void submit(ScsiTask task);

    /**
     * Runs a task management function (SAM-5 7).
     *
     * @param lun           the LUN addressed (ignored for target-wide functions)
     * @param referencedTag the task tag for ABORT TASK and QUERY TASK
     */
    CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction function, long lun, long referencedTag);

    /** Ends the nexus: aborts what is in flight (their tasks get {@link ScsiTask#aborted()}) and waits for nothing. */
    void close();
}
