package org.jtarget.core.internal.alua;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtarget.scsi.SenseReason;
import org.junit.jupiter.api.Test;

/** The state table: each access state against each class of command (SPC-4 5.15.2.4; LIO's core_alua_state_check). */
class AccessStatesTest {
    /** Command classes: name -> {opcode, service action}. */
    static final Map<String, int[]> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("INQUIRY", new int[] {0x12, -1});
        COMMANDS.put("REPORT LUNS", new int[] {0xA0, -1});
        COMMANDS.put("REQUEST SENSE", new int[] {0x03, -1});
        COMMANDS.put("REPORT TARGET PORT GROUPS", new int[] {0xA3, 0x0A});
        COMMANDS.put("SET TARGET PORT GROUPS", new int[] {0xA4, 0x0A});
        COMMANDS.put("READ BUFFER", new int[] {0x3C, -1});
        COMMANDS.put("MODE SENSE(10)", new int[] {0x5A, -1});
        COMMANDS.put("MODE SELECT(6)", new int[] {0x15, -1});
        COMMANDS.put("LOG SENSE", new int[] {0x4D, -1});
        COMMANDS.put("READ CAPACITY(10)", new int[] {0x25, -1});
        COMMANDS.put("READ CAPACITY(16)", new int[] {0x9E, 0x10});
        COMMANDS.put("PERSISTENT RESERVE IN", new int[] {0x5E, 0x00});
        COMMANDS.put("PERSISTENT RESERVE OUT", new int[] {0x5F, 0x01});
        COMMANDS.put("TEST UNIT READY", new int[] {0x00, -1});
        COMMANDS.put("READ(10)", new int[] {0x28, -1});
        COMMANDS.put("WRITE(16)", new int[] {0x8A, -1});
        COMMANDS.put("GET LBA STATUS", new int[] {0x9E, 0x12});
        COMMANDS.put("REPORT SUPPORTED OPERATION CODES", new int[] {0xA3, 0x0C});
    }

    /** Which commands each state lets through ('+') in the order of {@link #COMMANDS}. */
    static final Map<AluaState, String> ALLOWED = Map.of(
            AluaState.ACTIVE_OPTIMIZED, "++++++++++++++++++",
            AluaState.ACTIVE_NONOPTIMIZED, "++++++++++++++++++",
            AluaState.STANDBY, "+++++++++++++-----",
            AluaState.UNAVAILABLE, "++++++------------",
            AluaState.TRANSITIONING, "++++-+------------",
            AluaState.OFFLINE, "+++---------------");

    static final Map<AluaState, SenseReason> REFUSED_WITH = Map.of(
            AluaState.STANDBY, SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY,
            AluaState.UNAVAILABLE, SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE,
            AluaState.TRANSITIONING, SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITIONING,
            AluaState.OFFLINE, SenseReason.LOGICAL_UNIT_NOT_READY_OFFLINE);

    @Test
    void everyStateAgainstEveryCommandClass() {
        for (AluaState state : AluaState.values()) {
            String allowed = ALLOWED.get(state);
            int i = 0;
            for (Map.Entry<String, int[]> c : COMMANDS.entrySet()) {
                SenseReason expected = allowed.charAt(i++) == '+' ? null : REFUSED_WITH.get(state);
                assertEquals(expected, AccessStates.refusal(state, c.getValue()[0], c.getValue()[1]),
                        state + " x " + c.getKey());
            }
        }
    }

    @Test
    void senseCodesAreNotReady04hWithTheStatesQualifier() {
        assertEquals("NOT_READY 04/0b", describe(SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY));
        assertEquals("NOT_READY 04/0c", describe(SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE));
        assertEquals("NOT_READY 04/0a", describe(SenseReason.LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITIONING));
        assertEquals("NOT_READY 04/12", describe(SenseReason.LOGICAL_UNIT_NOT_READY_OFFLINE));
    }

    static String describe(SenseReason r) {
        return r.key() + String.format(" %02x/%02x", r.asc(), r.ascq());
    }
}
