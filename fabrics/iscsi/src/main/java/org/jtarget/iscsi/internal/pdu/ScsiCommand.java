package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Objects;

/**
 * SCSI Command (RFC 7143 §11.3). {@code cdb} is the 16-byte CDB field joined with an Extended CDB AHS
 * (§11.2.2.3) when present; {@code bidiReadLength} comes from the Bidirectional Read Expected Data
 * Transfer Length AHS (§11.2.2.4), 0 without one. {@code data} is immediate data.
 */
public record ScsiCommand(boolean immediate, boolean finalFlag, boolean read, boolean write, int attribute,
                          long lun, int itt, int expectedDataLength, int cmdSn, int expStatSn, byte[] cdb,
                          int bidiReadLength, ByteBuf data) implements DataPdu {
    public ScsiCommand {
        Objects.requireNonNull(cdb, "cdb");
        cdb = cdb.clone();
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.SCSI_COMMAND;
    }

    /** A copy of the CDB. */
    @Override
    public byte[] cdb() {
        return cdb.clone();
    }

    @Override
    public ScsiCommand replace(ByteBuf content) {
        return new ScsiCommand(immediate, finalFlag, read, write, attribute, lun, itt, expectedDataLength, cmdSn,
                expStatSn, cdb, bidiReadLength, content);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScsiCommand c && immediate == c.immediate && finalFlag == c.finalFlag && read == c.read
                && write == c.write && attribute == c.attribute && lun == c.lun && itt == c.itt
                && expectedDataLength == c.expectedDataLength && cmdSn == c.cmdSn && expStatSn == c.expStatSn
                && Arrays.equals(cdb, c.cdb) && bidiReadLength == c.bidiReadLength && data.equals(c.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(itt, cmdSn, Arrays.hashCode(cdb));
    }

    @Override
    public String toString() {
        return "ScsiCommand[immediate=" + immediate + ", final=" + finalFlag + ", read=" + read + ", write=" + write
                + ", attribute=" + attribute + ", lun=" + Long.toHexString(lun) + ", itt=0x" + Integer.toHexString(itt)
                + ", expectedDataLength=" + expectedDataLength + ", cmdSn=" + cmdSn + ", expStatSn=" + expStatSn
                + ", cdb=" + io.netty.buffer.ByteBufUtil.hexDump(cdb) + ", bidiReadLength=" + bidiReadLength
                + ", data=" + data.readableBytes() + " bytes]";
    }
}
