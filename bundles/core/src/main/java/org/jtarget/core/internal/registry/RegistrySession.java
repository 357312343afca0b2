package org.jtarget.core.internal.registry;

import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;

/** The session a fabric holds: the engine's nexus, tracked by its TPG until closed. */
final class RegistrySession implements ScsiSession {
    final Tpg tpg;
    final ScsiEngine.Nexus nexus;
    final FabricSession fabricSession;

    RegistrySession(Tpg tpg, ScsiEngine.Nexus nexus, FabricSession fabricSession) {
        this.tpg = tpg;
        this.nexus = nexus;
        this.fabricSession = fabricSession;
    }

    String initiatorName() {
        return nexus.info().initiatorName();
    }

    @Override
    public void submit(ScsiTask task) {
        nexus.submit(task);
    }

    @Override
    public CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction function, long lun,
                                                                  long referencedTag) {
        return nexus.taskManagement(function, lun, referencedTag);
    }

    @Override
    public void close() {
        if (tpg.sessions.remove(this)) {
            nexus.close();
        }
    }

    /** Target-side logout (ACL, TPG or target removed): the fabric ends the connection and then calls {@link #close()}. */
    void forceClose() {
        tpg.sessions.remove(this);
        try {
            fabricSession.close();
        } finally {
            nexus.close();
        }
    }

    @Override
    public String toString() {
        return "session " + nexus.info().initiatorPortName() + " on " + tpg.describe();
    }
}
