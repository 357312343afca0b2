package org.jtarget.core.internal.pr;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.ScsiNexus;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * PERSISTENT RESERVE OUT (SPC-4 6.16): decodes the CDB and the parameter list, runs the service action on
 * the LU's {@link PersistentReservations}, then delivers what it set off: unit attentions and, for
 * PREEMPT AND ABORT, the aborted tasks of the preempted I_T nexuses.
 */
public final class ReserveOut {
    /** Parameter list byte 20 (SPC-4 6.16.3): SPEC_I_PT, ALL_TG_PT, APTPL. */
    private static final int SPEC_I_PT = 0x08, ALL_TG_PT = 0x04, APTPL = 0x01;

    private ReserveOut() {
    }

    public static CompletionStage<ScsiResponse> execute(Command c) {
        Cdb cdb = c.cdb();
        int sa = cdb.u8(1) & 0x1F;
        int scope = cdb.u8(2) >>> 4;
        int prType = cdb.u8(2) & 0x0F;
        int len = c.parsed().dataOutLength();
        if (c.dataOutLength() != len || len < 24) { // the basic parameter list at least (SPC-4 6.16.3)
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        byte[] list = new byte[len];
        ByteBuf d = c.dataOut();
        d.getBytes(d.readerIndex(), list);
        ByteBuffer p = ByteBuffer.wrap(list);
        long key = p.getLong(0);
        long saKey = p.getLong(8);
        ScsiLogicalUnit lu = c.lu();
        PersistentReservations pr = lu.persistentReservations();
        ScsiNexus nexus = c.nexus();
        PersistentReservations.Effects effects;
        if (sa == PersistentReservations.REGISTER_AND_MOVE) {
            effects = registerAndMove(c, pr, list, key, saKey, scope, prType);
        } else {
            int flags = list[20] & 0xFF;
            boolean specIpt = (flags & SPEC_I_PT) != 0;
            if (specIpt && sa != PersistentReservations.REGISTER) {
                throw Sense.invalidParameterField(20, 3).exception(); // SPC-4 6.16.3: REGISTER only
            }
            if (!specIpt && len != 24) {
                throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
            }
            boolean registers = sa == PersistentReservations.REGISTER || sa == PersistentReservations.REGISTER_AND_IGNORE;
            boolean aptpl = (flags & APTPL) != 0;
            if (registers && aptpl && !pr.persistenceOffered()) {
                throw Sense.invalidParameterField(20, 0).exception(); // APTPL where PTPL_C is 0
            }
            effects = switch (sa) {
                case PersistentReservations.REGISTER, PersistentReservations.REGISTER_AND_IGNORE -> pr.register(
                        nexus.info(), sa, key, saKey, (flags & ALL_TG_PT) != 0, aptpl,
                        specIpt ? specified(list) : null);
                case PersistentReservations.RESERVE -> pr.reserve(nexus.info(), key, scope, prType);
                case PersistentReservations.RELEASE -> pr.release(nexus.info(), key, scope, prType);
                case PersistentReservations.CLEAR -> pr.clear(nexus.info(), key);
                case PersistentReservations.PREEMPT -> pr.preempt(nexus.info(), key, saKey, scope, prType, false);
                case PersistentReservations.PREEMPT_AND_ABORT ->
                        pr.preempt(nexus.info(), key, saKey, scope, prType, true);
                default -> throw Sense.invalidCdbField(1, 4).exception();
            };
        }
        if (effects == null) {
            return CompletableFuture.completedFuture(new ScsiResponse(ScsiStatus.RESERVATION_CONFLICT, null, null, 0));
        }
        List<CompletableFuture<Void>> aborted = deliver(lu, nexus, effects);
        if (aborted.isEmpty()) {
            return c.good();
        }
        // PREEMPT AND ABORT ends once the preempted tasks have (SPC-4 5.9.11.5)
        return CompletableFuture.allOf(aborted.toArray(CompletableFuture[]::new)).thenCompose(v -> c.good());
    }

    /** The TransportIDs of a SPEC_I_PT parameter list (SPC-4 6.16.3): bytes 24-27 their length, then them. */
    static List<TransportIds.Initiator> specified(byte[] list) {
        if (list.length < 28) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        long tidLength = ByteBuffer.wrap(list).getInt(24) & 0xFFFF_FFFFL;
        if (28 + tidLength != list.length) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        List<TransportIds.Initiator> out = new ArrayList<>();
        for (int off = 28; off < list.length; ) {
            TransportIds.Initiator i = TransportIds.parse(list, off, off);
            out.add(i);
            off += i.length();
        }
        return out;
    }

    /** SPC-4 6.16.4: the REGISTER AND MOVE parameter list names the destination by TransportID and RTPI. */
    private static PersistentReservations.Effects registerAndMove(Command c, PersistentReservations pr, byte[] list,
                                                                  long key, long saKey, int scope, int prType) {
        ByteBuffer p = ByteBuffer.wrap(list);
        boolean unreg = (list[17] & 0x02) != 0;
        boolean aptpl = (list[17] & 0x01) != 0;
        int rtpi = p.getShort(18) & 0xFFFF;
        long tidLength = p.getInt(20) & 0xFFFF_FFFFL;
        if (24 + tidLength > list.length) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        if (aptpl && !pr.persistenceOffered()) {
            throw Sense.invalidParameterField(17, 0).exception();
        }
        TransportIds.Initiator dest = TransportIds.parse(java.util.Arrays.copyOf(list, 24 + (int) tidLength), 24, 24);
        if (dest.isid() == null) { // an initiator port, not a device: format 01b only
            throw Sense.invalidParameterField(24, 7).exception();
        }
        String port = c.nexus().luns().targetPortReaching(rtpi, c.lu());
        if (port == null) {
            throw Sense.invalidParameterField(18, -1).exception(); // no such target port reaches this LU
        }
        return pr.registerAndMove(c.nexus().info(), key, saKey, scope, prType, unreg, aptpl, dest, port, rtpi);
    }

    /**
     * Raises the unit attentions of {@code e} on the I_T nexuses they are for (never on the issuer) and
     * aborts the tasks of preempted I_T nexuses on the LU; those that lost tasks also hear COMMANDS CLEARED
     * BY ANOTHER INITIATOR (SAM-5 5.6, TAS 0 in the control mode page).
     *
     * @param issuer the nexus that sent the command, or null for the administrator
     * @return futures that complete as each aborted task ends
     */
    public static List<CompletableFuture<Void>> deliver(ScsiLogicalUnit lu, ScsiNexus issuer,
                                                        PersistentReservations.Effects e) {
        List<ScsiNexus> live = new ArrayList<>(lu.unitAttentions().nexuses());
        for (PersistentReservations.Notice notice : e.notices()) {
            for (ScsiNexus n : live) {
                if (n != issuer && notice.to().stream().anyMatch(r -> r.matches(n.info()))) {
                    lu.unitAttentions().raise(n, notice.reason());
                }
            }
        }
        List<CompletableFuture<Void>> ended = new ArrayList<>();
        if (e.abort().isEmpty() || issuer == null) {
            return ended;
        }
        for (ScsiNexus n : live) {
            if (n != issuer && e.abort().stream().anyMatch(r -> r.matches(n.info()))) {
                List<CompletableFuture<Void>> theirs = issuer.taskManagement().abortAll(List.of(n), lu);
                if (!theirs.isEmpty()) {
                    lu.unitAttentions().raise(n, SenseReason.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
                }
                ended.addAll(theirs);
            }
        }
        return ended;
    }
}
