package org.jtarget.core.internal.scsi;

import org.jtarget.core.internal.alua.AccessStates;
import org.jtarget.core.internal.alua.AluaGroup;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;

/**
 * Why a command addressed to a logical unit is refused before it runs: every per-command check, in the one
 * order they apply (the first that refuses answers). A newcomer looking for why a command got CHECK CONDITION
 * or RESERVATION CONFLICT starts here.
 * <ol>
 * <li>unit attention (SAM-5 5.14): a pending condition is reported and cleared; not for INQUIRY, REPORT LUNS
 *     and REQUEST SENSE ({@link OpcodeDescriptor#NO_UA});</li>
 * <li>ALUA access state (SPC-4 5.15.2.4) of the target port group the command came through:
 *     {@link AccessStates} says which commands standby, unavailable, transitioning and offline allow;</li>
 * <li>sanitize (SBC-3 4.11): while one runs, everything but INQUIRY, REPORT LUNS and REQUEST SENSE gets NOT
 *     READY, SANITIZE IN PROGRESS with the progress; after a failure, medium access gets MEDIUM ERROR, SANITIZE
 *     COMMAND FAILED until a SANITIZE succeeds or exits failure mode;</li>
 * <li>readiness (SPC-4 4.5.6): medium access on an LU without a backstore gets NOT READY, MANUAL INTERVENTION
 *     REQUIRED (04h/03h). This gate also takes the command's lease on the backstore;</li>
 * <li>medium present (SBC-3 5.25): after an unload, medium access gets NOT READY, MEDIUM NOT PRESENT;</li>
 * <li>SPC-2 reservation (SPC-2 5.5.1): another nexus's RESERVE gets RESERVATION CONFLICT, except for
 *     {@link OpcodeDescriptor#RESERVATION_EXEMPT} commands;</li>
 * <li>persistent reservation (SPC-4 5.9.1, table 49): RESERVATION CONFLICT as the reservation type says;</li>
 * <li>write protection (SPC-4 7.5.8, SBC-3 4.13): the read_only attribute or SWP: DATA PROTECT, WRITE
 *     PROTECTED.</li>
 * </ol>
 * The Data-Out length check ({@link CommandPipeline#refusesDataOutLength}) follows in the pipeline.
 */
final class CommandGates {
    /** A refused command's answer: CHECK CONDITION with {@code sense}, or {@code status} without sense. */
    record Refusal(Sense sense, ScsiStatus status) {
        static Refusal check(Sense sense) {
            return new Refusal(sense, ScsiStatus.CHECK_CONDITION);
        }

        static final Refusal RESERVATION_CONFLICT = new Refusal(null, ScsiStatus.RESERVATION_CONFLICT);
    }

    private CommandGates() {
    }

    /** The first gate that refuses {@code c} (addressed to {@code lu} through {@code nexus}), or null when it runs. */
    static Refusal check(Command c, ScsiLogicalUnit lu, ScsiNexus nexus) {
        ParsedCommand p = c.parsed();
        OpcodeDescriptor d = p.descriptor();
        // 1. unit attention
        if (!p.hasFlag(OpcodeDescriptor.NO_UA)) {
            SenseReason ua = lu.unitAttentions().poll(nexus);
            if (ua != null) {
                return Refusal.check(Sense.of(ua));
            }
        }
        // 2. ALUA access state of the port's target port group
        SenseReason alua = AccessStates.refusal(aluaGroup(lu, nexus).state(), d.opcode(), d.serviceAction());
        if (alua != null) {
            return Refusal.check(Sense.of(alua));
        }
        // 3. sanitize
        SanitizeState sanitize = lu.sanitize();
        if (!p.hasFlag(OpcodeDescriptor.NO_UA) && sanitize.running()) {
            return Refusal.check(Sense.of(SenseReason.LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS)
                    .withProgress(sanitize.progress()));
        }
        if (sanitize.failed() && p.hasFlag(OpcodeDescriptor.MEDIUM) && !p.hasFlag(OpcodeDescriptor.SANITIZE)) {
            return Refusal.check(Sense.of(SenseReason.SANITIZE_COMMAND_FAILED));
        }
        // 4. readiness (and the lease on the backstore, which the pipeline releases when the command ends)
        c.lease(lu.acquire());
        if (c.lease() == null && p.hasFlag(OpcodeDescriptor.MEDIUM)) {
            return Refusal.check(Sense.of(SenseReason.LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION));
        }
        // 5. medium present
        if (p.hasFlag(OpcodeDescriptor.MEDIUM) && lu.mediumAbsent()) {
            return Refusal.check(Sense.of(SenseReason.MEDIUM_NOT_PRESENT));
        }
        // 6. SPC-2 reservation
        ScsiNexus holder = lu.reservationHolder();
        if (holder != null && holder != nexus && !p.hasFlag(OpcodeDescriptor.RESERVATION_EXEMPT)) {
            return Refusal.RESERVATION_CONFLICT;
        }
        // 7. persistent reservation
        if (lu.persistentReservations().conflicts(nexus.info(), p)) {
            return Refusal.RESERVATION_CONFLICT;
        }
        // 8. write protection
        if (p.hasFlag(OpcodeDescriptor.WRITE) && lu.writeProtected()) {
            return Refusal.check(Sense.of(SenseReason.WRITE_PROTECTED));
        }
        return null;
    }

    /** The target port group through which {@code nexus} reaches {@code lu}. */
    static AluaGroup aluaGroup(ScsiLogicalUnit lu, ScsiNexus nexus) {
        NexusInfo info = nexus.info();
        return lu.alua().groupOf(info.targetName(), info.tpgTag());
    }
}
