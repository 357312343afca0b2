package org.jtarget.core.internal.alua;

import org.jtarget.scsi.SenseReason;

/**
 * The commands each target port asymmetric access state allows (SPC-4 5.15.2.4, as LIO's
 * core_alua_state_check has them), and the sense for the rest: CHECK CONDITION, NOT READY with
 * <ul>
 * <li>standby: LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE (04h/0Bh), except INQUIRY, REPORT LUNS,
 *     REQUEST SENSE, LOG SELECT/SENSE, MODE SELECT/SENSE, RECEIVE/SEND DIAGNOSTIC, READ CAPACITY (10) and (16),
 *     REPORT and SET TARGET PORT GROUPS, PERSISTENT RESERVE IN/OUT, READ/WRITE BUFFER;</li>
 * <li>unavailable: ... IN UNAVAILABLE STATE (04h/0Ch), except INQUIRY, REPORT LUNS, REQUEST SENSE, REPORT and SET
 *     TARGET PORT GROUPS, READ/WRITE BUFFER;</li>
 * <li>transitioning: ... ASYMMETRIC ACCESS STATE TRANSITION (04h/0Ah), except INQUIRY, REPORT LUNS, REQUEST
 *     SENSE, REPORT TARGET PORT GROUPS, READ/WRITE BUFFER;</li>
 * <li>offline: LOGICAL UNIT NOT READY, OFFLINE (04h/12h), except INQUIRY, REPORT LUNS and REQUEST SENSE (LIO
 *     refuses those too; they stay so that an initiator can still discover and identify the LU).</li>
 * </ul>
 * Active/optimized and active/non-optimized allow every command.
 */
public final class AccessStates {
    static final int TEST_UNIT_READY = 0x00, REQUEST_SENSE = 0x03, INQUIRY = 0x12, MODE_SELECT_6 = 0x15,
            MODE_SENSE_6 = 0x1A, RECEIVE_DIAGNOSTIC = 0x1C, SEND_DIAGNOSTIC = 0x1D, READ_CAPACITY_10 = 0x25,
            WRITE_BUFFER = 0x3B, READ_BUFFER = 0x3C, LOG_SELECT = 0x4C, LOG_SENSE = 0x4D, MODE_SELECT_10 = 0x55,
            MODE_SENSE_10 = 0x5A, PR_IN = 0x5E, PR_OUT = 0x5F, SERVICE_ACTION_IN_16 = 0x9E, REPORT_LUNS = 0xA0,
            MAINTENANCE_IN = 0xA3, MAINTENANCE_OUT = 0xA4;
    static final int SA_READ_CAPACITY_16 = 0x10, SA_TARGET_PORT_GROUPS = 0x0A;

    private AccessStates() {
    }

    /** Why a command is refused in {@code state}, or null when it runs. */
    public static SenseReason refusal(AluaState state, int opcode, int serviceAction) {
        return switch (state) {
            case ACTIVE_OPTIMIZED, ACTIVE_NONOPTIMIZED -> null;
            case STANDBY -> standbyAllows(opcode, serviceAction) ? null
                    : SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY;
            case UNAVAILABLE -> unavailableAllows(opcode, serviceAction) ? null
                    : SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE;
            case TRANSITIONING -> transitioningAllows(opcode, serviceAction) ? null
                    : SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITIONING;
            case OFFLINE -> everyStateAllows(opcode) ? null : SenseReason.LOGICAL_UNIT_NOT_READY_OFFLINE;
        };
    }

    /** INQUIRY, REPORT LUNS, REQUEST SENSE: served in every state (and for LUNs that do not exist). */
    private static boolean everyStateAllows(int opcode) {
        return opcode == INQUIRY || opcode == REPORT_LUNS || opcode == REQUEST_SENSE;
    }

    private static boolean transitioningAllows(int opcode, int sa) {
        return everyStateAllows(opcode) || opcode == READ_BUFFER || opcode == WRITE_BUFFER
                || opcode == MAINTENANCE_IN && sa == SA_TARGET_PORT_GROUPS;
    }

    private static boolean unavailableAllows(int opcode, int sa) {
        return transitioningAllows(opcode, sa) || opcode == MAINTENANCE_OUT && sa == SA_TARGET_PORT_GROUPS;
    }

    private static boolean standbyAllows(int opcode, int sa) {
        return unavailableAllows(opcode, sa) || switch (opcode) {
            case LOG_SELECT, LOG_SENSE, MODE_SELECT_6, MODE_SELECT_10, MODE_SENSE_6, MODE_SENSE_10, RECEIVE_DIAGNOSTIC,
                 SEND_DIAGNOSTIC, READ_CAPACITY_10, PR_IN, PR_OUT -> true;
            case SERVICE_ACTION_IN_16 -> sa == SA_READ_CAPACITY_16;
            default -> false;
        };
    }
}
