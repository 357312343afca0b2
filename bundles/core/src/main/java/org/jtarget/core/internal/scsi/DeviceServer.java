package org.jtarget.core.internal.scsi;

import org.jtarget.core.internal.cmd.OpcodeTable;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.sbc.SbcCommands;
import org.jtarget.core.internal.spc.SpcCommands;
import org.jtarget.core.internal.tmr.TaskManagement;
import org.jtarget.spi.fabric.FabricSession;
import org.osgi.service.component.annotations.Component;

/**
 * The SCSI device server (SAM-5 4.6.2): SBC-3 block commands over SPC-4 primary commands, served to
 * the I_T nexuses the registry opens. No threads of its own.
 */
@Component(service = ScsiEngine.class)
public final class DeviceServer implements ScsiEngine {
    private final OpcodeTable table;
    private final CommandPipeline pipeline;
    private final TaskManagement taskManagement;

    public DeviceServer() {
        this.table = new OpcodeTable(new SbcCommands().descriptors(), new SpcCommands().descriptors(),
                org.jtarget.core.internal.alua.TargetPortGroupCommands.descriptors());
        this.pipeline = new CommandPipeline(table);
        this.taskManagement = new TaskManagement(pipeline);
    }

    public OpcodeTable opcodeTable() {
        return table;
    }

    @Override
    public LogicalUnit createLogicalUnit(String name, String serial) {
        return new ScsiLogicalUnit(name, serial);
    }

    @Override
    public Nexus openNexus(NexusInfo info, LunMap luns, FabricSession fabricSession) {
        return new ScsiNexus(info, luns, fabricSession, pipeline, taskManagement);
    }
}
