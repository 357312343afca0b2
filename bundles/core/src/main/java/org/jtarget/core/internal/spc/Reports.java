package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.scsi.CommandPipeline;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.ScsiNexus;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.sense.SenseData;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.ScsiResponse;

/** REQUEST SENSE, REPORT LUNS and SPC-2 RESERVE/RELEASE. */
public final class Reports {
    private Reports() {
    }

    /**
     * SPC-4 6.39: the pending unit attention (which this clears), else the LU's state: NOT READY when
     * offline, SANITIZE IN PROGRESS with its progress, MEDIUM NOT PRESENT when ejected, SANITIZE COMMAND
     * FAILED in failure mode, LOGICAL UNIT NOT SUPPORTED when no LU is mapped, otherwise NO SENSE.
     */
    public static CompletionStage<ScsiResponse> requestSense(Command c) {
        boolean descriptor = c.cdb().bit(1, 0);
        ScsiLogicalUnit lu = c.lu();
        SenseReason reason;
        if (lu == null) {
            reason = SenseReason.LOGICAL_UNIT_NOT_SUPPORTED;
        } else {
            reason = lu.unitAttentions().poll(c.nexus());
            if (reason == null && lu.sanitize().running()) { // SBC-3 4.11: with the progress indication
                byte[] sense = SenseData.encode(Sense.of(SenseReason.LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS)
                        .withProgress(lu.sanitize().progress()), descriptor);
                ByteBuf buf = Command.allocate(sense.length);
                buf.writeBytes(sense);
                return c.respond(buf);
            }
            if (reason == null) { // the ALUA state of this port's group (SPC-4 5.15.2.4): why medium access is refused
                org.jtarget.core.internal.engine.NexusInfo info = c.nexus().info();
                reason = org.jtarget.core.internal.alua.AccessStates.refusal(
                        lu.alua().groupOf(info.targetName(), info.tpgTag()).state(), SpcCommands.TEST_UNIT_READY, -1);
            }
            if (reason == null) {
                reason = !lu.online() ? SenseReason.LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION
                        : lu.mediumAbsent() ? SenseReason.MEDIUM_NOT_PRESENT
                        : lu.sanitize().failed() ? SenseReason.SANITIZE_COMMAND_FAILED
                        : SenseReason.NO_ADDITIONAL_SENSE_INFORMATION;
            }
        }
        byte[] sense = SenseData.encode(Sense.of(reason), descriptor);
        ByteBuf buf = Command.allocate(sense.length);
        buf.writeBytes(sense);
        return c.respond(buf);
    }

    /**
     * SPC-4 6.33: the LUNs of this nexus (SELECT REPORT 00h/02h; 01h: well-known LUs, of which there are
     * none). Clears REPORTED LUNS DATA HAS CHANGED for this nexus.
     */
    public static CompletionStage<ScsiResponse> reportLuns(Command c) {
        ScsiNexus nexus = c.nexus();
        LunMap map = nexus.luns();
        int[] luns = c.cdb().u8(2) == 1 ? new int[0] : map.luns();
        ByteBuf buf = Command.allocate(8 + 8 * luns.length);
        buf.writeInt(8 * luns.length).writeInt(0);
        for (int lun : luns) {
            buf.writeLong(CommandPipeline.encodeLun(lun));
        }
        for (ScsiLogicalUnit lu : nexus.touched()) {
            lu.unitAttentions().clear(nexus, SenseReason.REPORTED_LUNS_DATA_HAS_CHANGED);
        }
        return c.respond(buf);
    }

    /**
     * SPC-2 7.21 RESERVE(6)/(10): the pipeline already answered RESERVATION CONFLICT for other holders and,
     * while persistent reservation registrations exist, for everybody (SPC-4 5.9.3, pr.ConflictTable).
     */
    public static CompletionStage<ScsiResponse> reserve(Command c) {
        if (!c.lu().reserve(c.nexus())) {
            return java.util.concurrent.CompletableFuture.completedFuture(
                    new ScsiResponse(ScsiStatus.RESERVATION_CONFLICT, null, null, 0));
        }
        return c.good();
    }

    /**
     * SPC-2 7.17 RELEASE(6)/(10): releasing a reservation held by another nexus is no error and no effect.
     * While persistent reservation registrations exist the pipeline answered RESERVATION CONFLICT.
     */
    public static CompletionStage<ScsiResponse> release(Command c) {
        c.lu().release(c.nexus());
        return c.good();
    }
}
