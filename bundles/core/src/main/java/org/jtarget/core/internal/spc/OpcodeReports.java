package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.OpcodeTable;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.tmr.TaskManagement;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) straight from the {@link OpcodeTable}, and REPORT
 * SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36) from {@link TaskManagement#SUPPORTED}.
 */
public final class OpcodeReports {
    /** Command timeouts descriptor values (SPC-4 6.35.4), seconds: nominal unknown, recommended 30. */
    static final int NOMINAL_TIMEOUT = 0, RECOMMENDED_TIMEOUT = 30;

    private OpcodeReports() {
    }

    public static CompletionStage<ScsiResponse> supportedOpcodes(Command c) {
        Cdb cdb = c.cdb();
        boolean rctd = cdb.bit(2, 7);
        int options = cdb.u8(2) & 0x07;
        int opcode = cdb.u8(3);
        int sa = cdb.u16(4);
        OpcodeTable table = c.nexus().pipeline().table();
        ByteBuf b;
        switch (options) {
            case 0 -> { // all commands (SPC-4 6.35.2)
                List<OpcodeDescriptor> list = table.available(c.lu());
                int each = 8 + (rctd ? 12 : 0);
                b = Command.allocate(4 + each * list.size());
                b.writeInt(each * list.size());
                for (OpcodeDescriptor d : list) {
                    b.writeByte(d.opcode()).writeByte(0);
                    b.writeShort(Math.max(d.serviceAction(), 0));
                    b.writeByte(0);
                    b.writeByte((rctd ? 0x02 : 0) | (d.serviceAction() >= 0 ? 0x01 : 0)); // CTDP, SERVACTV
                    b.writeShort(d.cdbLength());
                    if (rctd) {
                        timeouts(b);
                    }
                }
            }
            case 1, 2, 3 -> { // one command (SPC-4 6.35.3)
                boolean usesSa = table.usesServiceAction(opcode);
                if ((options == 1 && usesSa) || (options == 2 && !usesSa)) {
                    throw Sense.invalidCdbField(2, 2).exception();
                }
                if (options == 2 && sa > 0x1F) {
                    throw Sense.invalidCdbField(4, -1).exception();
                }
                OpcodeDescriptor d = table.find(opcode, usesSa ? sa : -1);
                boolean supported = d != null && d.available().test(c.lu());
                b = Command.allocate(4 + (supported ? d.cdbLength() : 0) + 12);
                b.writeByte(0);
                b.writeByte((rctd && supported ? 0x80 : 0) | (supported ? 0x03 : 0x01)); // CTDP, SUPPORT
                if (supported) {
                    b.writeShort(d.cdbLength());
                    byte[] usage = d.usage().clone();
                    usage[usage.length - 1] = 0; // CONTROL byte: NACA/LINK not supported
                    b.writeBytes(usage);
                    if (rctd) {
                        timeouts(b);
                    }
                } else {
                    b.writeShort(0);
                }
            }
            default -> throw Sense.invalidCdbField(2, 2).exception();
        }
        return c.respond(b);
    }

    private static void timeouts(ByteBuf b) {
        b.writeShort(0x0A).writeByte(0).writeByte(0);
        b.writeInt(NOMINAL_TIMEOUT).writeInt(RECOMMENDED_TIMEOUT);
    }

    public static CompletionStage<ScsiResponse> supportedTmfs(Command c) {
        boolean repd = c.cdb().bit(2, 7);
        var s = TaskManagement.SUPPORTED;
        ByteBuf b = Command.allocate(16);
        int b0 = (s.contains(TaskManagementFunction.ABORT_TASK) ? 0x80 : 0) // ATS
                | (s.contains(TaskManagementFunction.ABORT_TASK_SET) ? 0x40 : 0) // ATSS
                | (s.contains(TaskManagementFunction.CLEAR_ACA) ? 0x20 : 0) // CACAS
                | (s.contains(TaskManagementFunction.CLEAR_TASK_SET) ? 0x10 : 0) // CTSS
                | (s.contains(TaskManagementFunction.LOGICAL_UNIT_RESET) ? 0x08 : 0) // LURS
                | (s.contains(TaskManagementFunction.QUERY_TASK) ? 0x04 : 0) // QTS
                | (s.contains(TaskManagementFunction.TARGET_WARM_RESET) ? 0x02 : 0); // TRS
        int b1 = (s.contains(TaskManagementFunction.QUERY_ASYNCHRONOUS_EVENT) ? 0x04 : 0) // QAES
                | (s.contains(TaskManagementFunction.QUERY_TASK_SET) ? 0x02 : 0) // QTSS
                | (s.contains(TaskManagementFunction.I_T_NEXUS_RESET) ? 0x01 : 0); // ITNRS
        b.writeByte(b0).writeByte(b1).writeByte(0);
        if (repd) {
            b.writeByte(0x0C).writeZero(12); // ADDITIONAL LENGTH; no timeout data (TMFTMOV 0)
        } else {
            b.writeByte(0);
        }
        return c.respond(b);
    }
}
