package org.jtarget.core.internal.sbc;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.fabric.ScsiResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** READ CAPACITY, SYNCHRONIZE CACHE, PRE-FETCH, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL. */
public final class Maintenance {
    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

    private Maintenance() {
    }

    /** SBC-3 5.15: last LBA (FFFFFFFFh when it does not fit: use READ CAPACITY(16)) and block length. */
    public static CompletionStage<ScsiResponse> readCapacity10(Command c) {
        Backstore bs = c.backstore();
        long last = bs.blockCount() - 1;
        ByteBuf b = Command.allocate(8);
        b.writeInt((int) Math.min(last, 0xFFFFFFFFL)).writeInt(bs.blockSize());
        return c.respond(b);
    }

    /** SBC-3 5.16: 32 bytes; LBPME when the backstore is thin provisioned, LBPRZ when it then reads zeros. */
    public static CompletionStage<ScsiResponse> readCapacity16(Command c) {
        Backstore bs = c.backstore();
        ThinProvisioning thin = bs.thinProvisioning().orElse(null);
        ByteBuf b = Command.allocate(32);
        b.writeLong(bs.blockCount() - 1).writeInt(bs.blockSize());
        b.writeByte(0); // P_TYPE, PROT_EN: no protection information
        b.writeByte(c.lu().physicalBlockExponent()); // P_I_EXPONENT 0, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
        b.writeShort(thin == null ? 0 : thin.readsZerosAfterUnmap() ? 0xC000 : 0x8000); // LBPME, LBPRZ, LALBA 0
        b.writeZero(16);
        return c.respond(b);
    }

    /*
     * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT is 0 unless the physical_block_size attribute says
     * otherwise: with 3 (4 KiB physical blocks) libiscsi's GetLBAStatus.UnmapSingle expects the first LBA
     * status descriptor to start at a physical block boundary rather than at STARTING LBA, which SBC-3
     * 5.8.3 requires (GET LBA STATUS here always starts at STARTING LBA).
     */

    /**
     * SBC-3 5.22/5.23: flushes the whole cache (the range was checked). With IMMED the status goes at once
     * and a failed flush is only logged.
     */
    public static CompletionStage<ScsiResponse> synchronizeCache(Command c) {
        Backstore bs = c.backstore();
        CompletionStage<Void> flush = bs.flush();
        if (c.cdb().bit(1, 1)) {
            flush.whenComplete((v, t) -> {
                if (t != null) {
                    LOG.warn("SYNCHRONIZE CACHE (IMMED) on {} failed", c.lu().name(), t);
                }
            });
            return c.good();
        }
        return flush.thenApply(v -> c.goodResponse());
    }

    /** SBC-3 5.9/5.10 PRE-FETCH: no cache to fill; GOOD once the range checked (CONDITION MET is optional). */
    public static CompletionStage<ScsiResponse> preFetch(Command c) {
        return c.good();
    }

    /**
     * SBC-3 5.25 START STOP UNIT: defined power conditions are accepted without effect; START alone
     * leaves the LU ready. LOEJ unloads (START 0) or loads (START 1) a removable medium unless an I_T
     * nexus prevents removal (ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED); on a fixed medium LOEJ is
     * INVALID FIELD IN CDB. Nothing runs long, so IMMED changes nothing.
     */
    public static CompletionStage<ScsiResponse> startStop(Command c) {
        Cdb cdb = c.cdb();
        int powerCondition = cdb.u8(4) >>> 4;
        if (powerCondition != 0) {
            // SBC-3 5.25 table 85: ACTIVE, IDLE, STANDBY, LU_CONTROL, FORCE_IDLE_0, FORCE_STANDBY_0. A virtual
            // LU has no power states to change; START and LOEJ are ignored. The rest is reserved or obsolete.
            if (powerCondition == 0x1 || powerCondition == 0x2 || powerCondition == 0x3 || powerCondition == 0x7
                    || powerCondition == 0xA || powerCondition == 0xB) {
                return c.good();
            }
            throw Sense.invalidCdbField(4, 7).exception();
        }
        if (cdb.bit(4, 1)) { // LOEJ
            if (!c.lu().removable()) {
                throw Sense.invalidCdbField(4, 1).exception();
            }
            if (!c.lu().loadOrEject(cdb.bit(4, 0), c.nexus())) {
                throw Sense.of(SenseReason.MEDIUM_REMOVAL_PREVENTED).exception();
            }
        }
        return c.good();
    }

    /**
     * SBC-3 5.18/5.19 READ DEFECT DATA: a virtual medium has no defects; the requested lists come back
     * valid and empty in the requested format.
     */
    public static CompletionStage<ScsiResponse> readDefectData(Command c) {
        Cdb cdb = c.cdb();
        boolean twelve = cdb.opcode() == SbcCommands.READ_DEFECT_DATA_12;
        int req = twelve ? cdb.u8(1) : cdb.u8(2); // REQ_PLIST(4) REQ_GLIST(3) DEFECT LIST FORMAT(2-0)
        ByteBuf b = Command.allocate(8);
        b.writeByte(0).writeByte(req & 0x1F); // PLISTV GLISTV as requested, same format
        if (twelve) {
            b.writeShort(0).writeInt(0); // DEFECT LIST LENGTH (4 bytes)
        } else {
            b.writeShort(0);
        }
        return c.respond(b);
    }

    /**
     * SBC-3 5.13 PREVENT ALLOW MEDIUM REMOVAL: PREVENT 01b prevents and 00b allows removal for this I_T
     * nexus (10b/11b are obsolete: INVALID FIELD IN CDB). A fixed medium cannot be removed anyway, so
     * there only 00b is accepted.
     */
    public static CompletionStage<ScsiResponse> preventAllow(Command c) {
        int prevent = c.cdb().u8(4) & 0x03;
        if (prevent > 1 || (prevent == 1 && !c.lu().removable())) {
            throw Sense.invalidCdbField(4, prevent > 1 ? 1 : 0).exception();
        }
        if (c.lu().removable()) {
            c.lu().preventRemoval(c.nexus(), prevent == 1);
        }
        return c.good();
    }
}
