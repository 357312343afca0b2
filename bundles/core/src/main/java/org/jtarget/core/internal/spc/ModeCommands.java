package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.fabric.ScsiResponse;

/** MODE SENSE(6)/(10) and MODE SELECT(6)/(10) (SPC-4 6.9-6.12) over {@link ModePages}. */
public final class ModeCommands {
    private ModeCommands() {
    }

    public static CompletionStage<ScsiResponse> sense(Command c) {
        Cdb cdb = c.cdb();
        boolean ten = cdb.opcode() == SpcCommands.MODE_SENSE_10;
        boolean dbd = cdb.bit(1, 3);
        boolean llbaa = ten && cdb.bit(1, 4);
        int pc = cdb.u8(2) >>> 6;
        int page = cdb.u8(2) & 0x3F;
        int subpage = cdb.u8(3);
        if (page != ModePages.ALL && !ModePages.known(page)) {
            throw Sense.invalidCdbField(2, 5).exception();
        }
        if (subpage != 0 && subpage != 0xFF) { // only subpage 00h exists; FFh asks for all of them
            throw Sense.invalidCdbField(3, -1).exception();
        }
        ScsiLogicalUnit lu = c.lu();
        Backstore bs = lu.backstore();
        boolean wce = bs != null && bs.writeCacheEnabled();
        ByteBuf b = Command.allocate(128);
        try {
            int header = ten ? 8 : 4;
            b.writeZero(header);
            int deviceSpecific = (lu.writeProtected() ? 0x80 : 0) | 0x10; // WP, DPOFUA (SBC-3 6.4.1)
            int bdl = 0;
            if (!dbd) { // SBC-3 6.4.2 block descriptors
                long blocks = lu.blockCount();
                if (llbaa) {
                    b.writeLong(blocks).writeInt(0).writeInt(lu.blockSize());
                    bdl = 16;
                } else {
                    b.writeInt((int) Math.min(blocks, 0xFFFFFFFFL)).writeByte(0).writeMedium(lu.blockSize());
                    bdl = 8;
                }
            }
            lu.modePages().write(b, page, pc, wce);
            int total = b.writerIndex();
            if (ten) {
                b.setShort(0, total - 2); // MODE DATA LENGTH
                b.setByte(3, deviceSpecific);
                b.setByte(4, llbaa && !dbd ? 0x01 : 0); // LONGLBA
                b.setShort(6, bdl);
            } else {
                b.setByte(0, total - 1);
                b.setByte(2, deviceSpecific);
                b.setByte(3, bdl);
            }
        } catch (RuntimeException e) {
            b.release();
            throw e;
        }
        return c.respond(b);
    }

    /** SPC-4 6.9: validates the whole parameter list, then applies the changeable fields. */
    public static CompletionStage<ScsiResponse> select(Command c) {
        int len = c.dataOutLength();
        if (len == 0) {
            return c.good();
        }
        boolean ten = c.cdb().opcode() == SpcCommands.MODE_SELECT_10;
        byte[] p = new byte[len];
        c.dataOut().getBytes(c.dataOut().readerIndex(), p);
        int header = ten ? 8 : 4;
        if (len < header) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        int bdl = ten ? ((p[6] & 0xFF) << 8) | (p[7] & 0xFF) : p[3] & 0xFF;
        ScsiLogicalUnit lu = c.lu();
        if (header + bdl > len) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        boolean longLba = ten && (p[4] & 0x01) != 0;
        int descLen = longLba ? 16 : 8;
        if (bdl % descLen != 0) {
            throw Sense.invalidParameterField(ten ? 6 : 3, -1).exception();
        }
        for (int off = header; off < header + bdl; off += descLen) { // block length must stay as it is
            int at = off + descLen - (longLba ? 4 : 3);
            int blockLen = longLba ? ((p[at] & 0xFF) << 24) | ((p[at + 1] & 0xFF) << 16) | ((p[at + 2] & 0xFF) << 8)
                    | (p[at + 3] & 0xFF) : ((p[at] & 0xFF) << 16) | ((p[at + 1] & 0xFF) << 8) | (p[at + 2] & 0xFF);
            if (blockLen != lu.blockSize()) {
                throw Sense.invalidParameterField(at, -1).exception();
            }
        }
        Backstore bs = lu.backstore();
        boolean wce = bs != null && bs.writeCacheEnabled();
        // validate every page on a scratch copy first so a bad page leaves nothing half-applied
        ModePages scratch = new ModePages();
        scratch.copyFrom(lu.modePages());
        for (int off = header + bdl; off < len; ) {
            off += (int) scratch.select(p, off, len, wce);
        }
        boolean changed = false;
        for (int off = header + bdl; off < len; ) {
            long r = lu.modePages().select(p, off, len, wce);
            changed |= (r >>> 32) != 0;
            off += (int) r;
        }
        if (changed) { // SPC-4 7.5.3: the other I_T nexuses learn by unit attention
            lu.unitAttentions().raiseAll(SenseReason.MODE_PARAMETERS_CHANGED, c.nexus());
        }
        return c.good();
    }
}
