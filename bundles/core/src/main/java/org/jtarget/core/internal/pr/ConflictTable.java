package org.jtarget.core.internal.pr;

import org.jtarget.core.internal.cmd.Cdb;

/**
 * Which commands a persistent reservation lets through from an I_T nexus that does not hold it: SPC-4
 * 5.9.1 ("SPC commands that are allowed in the presence of various reservations", and for PERSISTENT
 * RESERVE OUT the table of its service actions) and SBC-3 4.17 (the same for SBC commands). Every
 * command of the core falls in one of these classes; an unknown command is treated as a write.
 */
public final class ConflictTable {
    /** How the tables treat a command from an I_T nexus that does not hold the reservation. */
    public enum Access {
        /** Allowed under every type (INQUIRY, TEST UNIT READY, READ CAPACITY, PERSISTENT RESERVE IN, ...). */
        ALLOWED,
        /**
         * Reads the medium or the device's state (READ, VERIFY, MODE SENSE, ...): allowed under the Write
         * Exclusive types, under Exclusive Access only from registrants of a registrants-only or
         * all-registrants type.
         */
        READ,
        /** Changes the medium or the device's state: allowed only from registrants of those types. */
        WRITE,
        /** PERSISTENT RESERVE OUT CLEAR, PREEMPT, PREEMPT AND ABORT, RELEASE: allowed from any registrant. */
        REGISTRANT,
        /** PERSISTENT RESERVE OUT RESERVE and REGISTER AND MOVE: conflict for every non-holder. */
        HOLDER,
        /** SPC-2 RESERVE and RELEASE: conflict whenever a registration exists (SPC-4 5.9.3, CRH 0). */
        SPC2
    }

    private ConflictTable() {
    }

    /** The class of the command in {@code cdb}. */
    public static Access classify(Cdb cdb) {
        int op = cdb.opcode();
        return switch (op) {
            // SPC-4: allowed whatever the reservation
            case 0x00, // TEST UNIT READY
                 0x03, // REQUEST SENSE
                 0x12, // INQUIRY
                 0x4D, // LOG SENSE
                 0x5E, // PERSISTENT RESERVE IN
                 0xA0, // REPORT LUNS
                 0x25 // READ CAPACITY(10) (SBC-3)
                    -> Access.ALLOWED;
            case 0x16, 0x17, 0x56, 0x57 -> Access.SPC2; // RESERVE(6/10), RELEASE(6/10)
            case 0x5F -> switch (cdb.u8(1) & 0x1F) { // PERSISTENT RESERVE OUT
                case PersistentReservations.REGISTER, PersistentReservations.REGISTER_AND_IGNORE -> Access.ALLOWED;
                case PersistentReservations.RESERVE, PersistentReservations.REGISTER_AND_MOVE -> Access.HOLDER;
                default -> Access.REGISTRANT; // RELEASE, CLEAR, PREEMPT, PREEMPT AND ABORT
            };
            case 0xA3 -> switch (cdb.u8(1) & 0x1F) { // MAINTENANCE IN
                // REPORT IDENTIFYING INFORMATION, REPORT TARGET PORT GROUPS, REPORT ALIASES, REPORT PRIORITY,
                // REPORT TIMESTAMP: allowed
                case 0x05, 0x0A, 0x0B, 0x0E, 0x0F -> Access.ALLOWED;
                default -> Access.READ; // REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS
            };
            case 0x9E -> switch (cdb.u8(1) & 0x1F) { // SERVICE ACTION IN(16)
                case 0x10 -> Access.ALLOWED; // READ CAPACITY(16)
                default -> Access.READ; // GET LBA STATUS
            };
            // SPC-4 reads: MODE SENSE, READ BUFFER, RECEIVE DIAGNOSTIC RESULTS, READ ATTRIBUTE, RECEIVE COPY
            // RESULTS, SECURITY PROTOCOL IN
            case 0x1A, 0x5A, 0x3C, 0x1C, 0x8C, 0x84, 0xA2,
                 // SBC-3 reads: READ, VERIFY, PRE-FETCH, READ DEFECT DATA, READ LONG
                 0x08, 0x28, 0xA8, 0x88, 0x2F, 0xAF, 0x8F, 0x34, 0x90, 0x37, 0xB7, 0x3E -> Access.READ;
            case 0x1E -> (cdb.u8(4) & 0x03) == 0 ? Access.ALLOWED : Access.WRITE; // PREVENT ALLOW: PREVENT 00b
            // START STOP UNIT: START 1 with POWER CONDITION 0h is allowed, anything else (stop, eject) is not
            case 0x1B -> (cdb.u8(4) & 0x01) != 0 && (cdb.u8(4) & 0xF0) == 0 ? Access.ALLOWED : Access.WRITE;
            // everything else changes something: WRITE*, WRITE SAME, UNMAP, COMPARE AND WRITE, ORWRITE, WRITE
            // ATOMIC, SYNCHRONIZE CACHE, SANITIZE, FORMAT UNIT, MODE SELECT, LOG SELECT, EXTENDED COPY, WRITE
            // BUFFER, SEND DIAGNOSTIC, SET TARGET PORT GROUPS, ...
            default -> Access.WRITE;
        };
    }

    /**
     * Whether a command of class {@code a} from an I_T nexus that does not hold a reservation of
     * {@code type} conflicts with it.
     *
     * @param registered whether that I_T nexus is registered
     */
    public static boolean conflicts(Access a, int type, boolean registered) {
        boolean writeExclusive = type == PersistentReservations.WRITE_EXCLUSIVE
                || type == PersistentReservations.WRITE_EXCLUSIVE_REGISTRANTS_ONLY
                || type == PersistentReservations.WRITE_EXCLUSIVE_ALL_REGISTRANTS;
        boolean registrantsMayAccess = type != PersistentReservations.WRITE_EXCLUSIVE
                && type != PersistentReservations.EXCLUSIVE_ACCESS;
        return switch (a) {
            case ALLOWED -> false;
            case SPC2 -> true; // a reservation implies a registration
            case HOLDER -> true;
            case REGISTRANT -> !registered;
            case READ -> !(writeExclusive || (registrantsMayAccess && registered));
            case WRITE -> !(registrantsMayAccess && registered);
        };
    }
}
