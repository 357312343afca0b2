package org.jtarget.core.internal.pr;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.spi.fabric.ScsiResponse;

/** PERSISTENT RESERVE IN (SPC-4 6.15): READ KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS. */
public final class ReserveIn {
    /** PERSISTENT RESERVE IN service actions (SPC-4 6.15.1). */
    static final int READ_KEYS = 0, READ_RESERVATION = 1, REPORT_CAPABILITIES = 2, READ_FULL_STATUS = 3;

    private ReserveIn() {
    }

    public static CompletionStage<ScsiResponse> execute(Command c) {
        int sa = c.cdb().u8(1) & 0x1F;
        PersistentReservations.Status s = c.lu().persistentReservations().status();
        ByteBuf b = switch (sa) {
            case READ_KEYS -> readKeys(s);
            case READ_RESERVATION -> readReservation(s);
            case REPORT_CAPABILITIES -> reportCapabilities(s);
            case READ_FULL_STATUS -> readFullStatus(s);
            default -> throw Sense.invalidCdbField(1, 4).exception();
        };
        return c.respond(b);
    }

    /** SPC-4 6.15.2: PRGENERATION, ADDITIONAL LENGTH, then every registered key. */
    static ByteBuf readKeys(PersistentReservations.Status s) {
        ByteBuf b = Command.allocate(8 + 8 * s.registrations().size());
        b.writeInt(s.generation()).writeInt(8 * s.registrations().size());
        for (Registration r : s.registrations()) {
            b.writeLong(r.key());
        }
        return b;
    }

    /** SPC-4 6.15.3: the holder's key (0 for the all-registrants types), SCOPE and TYPE. */
    static ByteBuf readReservation(PersistentReservations.Status s) {
        ByteBuf b = Command.allocate(24);
        b.writeInt(s.generation());
        if (s.type() == 0) {
            return b.writeInt(0);
        }
        b.writeInt(16);
        b.writeLong(s.holder() == null ? 0 : s.holder().key());
        b.writeInt(0).writeByte(0).writeByte(s.type()).writeShort(0); // SCOPE 0h (LU_SCOPE), TYPE
        return b;
    }

    /**
     * SPC-4 6.15.4: CRH 0 (SPC-2 RESERVE conflicts with registrations), SIP_C 1, ATP_C 1, PTPL_C when the
     * LU has a place to keep reservations; TMV 1 with every type; ALLOW COMMANDS 001b (TEST UNIT READY
     * passes Write Exclusive and Exclusive Access reservations), PTPL_A the last APTPL bit.
     */
    static ByteBuf reportCapabilities(PersistentReservations.Status s) {
        ByteBuf b = Command.allocate(8);
        b.writeShort(8);
        b.writeByte(0x08 | 0x04 | (s.persistenceOffered() ? 0x01 : 0)); // SIP_C ATP_C PTPL_C
        b.writeByte(0x80 | 0x10 | (s.aptpl() ? 0x01 : 0)); // TMV, ALLOW COMMANDS 001b, PTPL_A
        b.writeByte(0x80 | 0x40 | 0x20 | 0x08 | 0x02); // WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX
        b.writeByte(0x01); // EX_AC_AR
        b.writeShort(0);
        return b;
    }

    /**
     * SPC-4 6.15.5: one descriptor per registration: key, ALL_TG_PT, R_HOLDER, SCOPE and TYPE for the
     * holder, RELATIVE TARGET PORT IDENTIFIER and the initiator's TransportID.
     */
    static ByteBuf readFullStatus(PersistentReservations.Status s) {
        ByteBuf b = Command.allocate(8 + s.registrations().size() * 48);
        b.writeInt(s.generation()).writeInt(0);
        for (Registration r : s.registrations()) {
            boolean holds = s.holds(r);
            byte[] tid = r.transportId();
            b.writeLong(r.key()).writeInt(0);
            b.writeByte((r.allTargetPorts() ? 0x02 : 0) | (holds ? 0x01 : 0)); // ALL_TG_PT, R_HOLDER
            b.writeByte(holds ? s.type() : 0); // SCOPE 0h, TYPE
            b.writeInt(0).writeShort(r.relativeTargetPortId());
            b.writeInt(tid.length).writeBytes(tid);
        }
        b.setInt(4, b.writerIndex() - 8);
        return b;
    }
}
