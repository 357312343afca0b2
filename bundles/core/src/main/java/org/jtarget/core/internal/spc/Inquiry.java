package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * INQUIRY (SPC-4 6.6): standard data and the vital product data pages 00h, 80h, 83h (SPC-4 7.8) and
 * B0h, B1h, B2h (SBC-3 6.5).
 */
public final class Inquiry {
    public static final String VENDOR = "JTARGET";
    static final String REVISION = "0001";
    /** IEEE company ID used in NAA designators (the OpenFabrics OUI LIO uses for the same purpose). */
    static final int IEEE_COMPANY_ID = 0x001405;
    /** Largest transfer in one command, in bytes (VPD B0h MAXIMUM TRANSFER LENGTH). */
    public static final int MAX_TRANSFER_BYTES = 64 << 20;
    /** Transfer size initiators should prefer, in bytes (VPD B0h OPTIMAL TRANSFER LENGTH). */
    public static final int OPTIMAL_TRANSFER_BYTES = 8 << 20;
    /** Most blocks one UNMAP descriptor may deallocate (VPD B0h MAXIMUM UNMAP LBA COUNT). */
    public static final long MAX_UNMAP_BLOCKS = 0x100000;
    /** Most blocks one WRITE SAME may write (VPD B0h MAXIMUM WRITE SAME LENGTH). */
    public static final long MAX_WRITE_SAME_BLOCKS = 0x400000;
    public static final int MAX_UNMAP_DESCRIPTORS = 256;
    public static final int MAX_COMPARE_AND_WRITE_BLOCKS = 1;

    private static final int[] VPD_PAGES = {0x00, 0x80, 0x83, 0x8F, 0xB0, 0xB1, 0xB2};

    private Inquiry() {
    }

    public static CompletionStage<ScsiResponse> execute(Command c) {
        Cdb cdb = c.cdb();
        boolean evpd = cdb.bit(1, 0);
        int page = cdb.u8(2);
        ScsiLogicalUnit lu = c.lu();
        ByteBuf buf = Command.allocate(256);
        try {
            if (!evpd) {
                if (page != 0) { // SPC-4 6.6.1: PAGE CODE must be zero without EVPD
                    throw Sense.invalidCdbField(2, -1).exception();
                }
                standard(buf, lu, c.nexus().info());
            } else if (lu == null) {
                buf.writeByte(0x7F).writeByte(page).writeShort(0); // PQ 011b: no LU here
            } else {
                switch (page) {
                    case 0x00 -> supportedPages(buf, lu);
                    case 0x80 -> unitSerial(buf, lu);
                    case 0x83 -> deviceIdentification(buf, lu, c.nexus().info());
                    case 0x8F -> thirdPartyCopy(buf);
                    case 0xB0 -> blockLimits(buf, lu);
                    case 0xB1 -> blockDeviceCharacteristics(buf, lu);
                    case 0xB2 -> {
                        if (!lu.thinProvisioned()) {
                            throw Sense.invalidCdbField(2, -1).exception();
                        }
                        logicalBlockProvisioning(buf, lu);
                    }
                    default -> throw Sense.invalidCdbField(2, -1).exception();
                }
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return c.respond(buf);
    }

    /**
     * SPC-4 6.6.2: standard INQUIRY data, 74 bytes with eight version descriptors. TPGS (byte 5 bits 5-4) is
     * what the target port group of the port the command came through supports: 01b implicit, 10b explicit,
     * 11b both (SPC-4 5.15.2.7; LIO reports the same group's).
     */
    static void standard(ByteBuf b, ScsiLogicalUnit lu, NexusInfo nexus) {
        int start = b.writerIndex();
        b.writeByte(lu == null ? 0x7F : 0x00); // PERIPHERAL QUALIFIER 000b/011b, DEVICE TYPE 00h (SBC)
        b.writeByte(lu != null && lu.removable() ? 0x80 : 0x00); // RMB (SPC-4 6.6.2)
        b.writeByte(0x06); // VERSION: SPC-4
        b.writeByte(0x12); // HISUP 1, RESPONSE DATA FORMAT 2
        b.writeByte(74 - 5); // ADDITIONAL LENGTH
        int tpgs = lu == null ? 0 : lu.alua().groupOf(nexus.targetName(), nexus.tpgTag()).mode().tpgsBits();
        b.writeByte(tpgs | 0x08); // SCCS ACC TPGS 3PC (EXTENDED COPY, SPC-4 6.3) PROTECT
        b.writeByte(0x00); // ENCSERV MULTIP
        b.writeByte(0x02); // CMDQUE
        ascii(b, VENDOR, 8);
        Backstore bs = lu == null ? null : lu.backstore();
        ascii(b, bs == null ? "" : bs.productId(), 16);
        ascii(b, REVISION, 4);
        b.writeZero(58 - 36); // vendor specific, CLOCKING/QAS/IUS, reserved
        // VERSION DESCRIPTORS (SPC-4 table 144): SAM-5, SPC-4, SBC-3, iSCSI (RFC 7143)
        b.writeShort(0x00A0).writeShort(0x0460).writeShort(0x04C0).writeShort(0x0960);
        b.writeZero(8);
        assert b.writerIndex() - start == 74;
    }

    static void supportedPages(ByteBuf b, ScsiLogicalUnit lu) {
        b.writeByte(0x00).writeByte(0x00);
        int lenAt = b.writerIndex();
        b.writeShort(0);
        for (int p : VPD_PAGES) {
            if (p != 0xB2 || lu.thinProvisioned()) {
                b.writeByte(p);
            }
        }
        b.setShort(lenAt, b.writerIndex() - lenAt - 2);
    }

    /** SPC-4 7.8.15: UNIT SERIAL NUMBER. */
    static void unitSerial(ByteBuf b, ScsiLogicalUnit lu) {
        byte[] serial = lu.serial().getBytes(StandardCharsets.US_ASCII);
        b.writeByte(0x00).writeByte(0x80).writeShort(serial.length).writeBytes(serial);
    }

    /**
     * SPC-4 7.8.6: DEVICE IDENTIFICATION. LU designators: NAA IEEE Registered Extended (type 3) from the
     * serial, T10 vendor ID (type 1). Target port: relative target port (type 4: the TPG tag), target port
     * group (type 5: the ALUA group the port is in for this LU), SCSI name string (type 8). Target device: SCSI name string. PIV is set on port and
     * device designators, whose PROTOCOL IDENTIFIER is the fabric's.
     */
    static void deviceIdentification(ByteBuf b, ScsiLogicalUnit lu, NexusInfo nexus) {
        b.writeByte(0x00).writeByte(0x83);
        int lenAt = b.writerIndex();
        b.writeShort(0);
        // NAA IEEE Registered Extended: binary, LU association, type 3
        b.writeByte(0x01).writeByte(0x03).writeByte(0).writeByte(16);
        b.writeBytes(naa(lu.serial()));
        // T10 vendor ID based: ASCII, LU association, type 1
        byte[] t10 = (pad(VENDOR, 8) + lu.serial()).getBytes(StandardCharsets.US_ASCII);
        b.writeByte(0x02).writeByte(0x01).writeByte(0).writeByte(t10.length).writeBytes(t10);
        int proto = (nexus.protocolIdentifier() & 0x0F) << 4;
        // Relative target port: binary, PIV, target port association (01b), type 4
        b.writeByte(proto | 0x01).writeByte(0x80 | 0x10 | 0x04).writeByte(0).writeByte(4);
        b.writeShort(0).writeShort(nexus.relativeTargetPortId());
        // Target port group: type 5, the ALUA group of this port (SPC-4 7.8.6.7)
        b.writeByte(proto | 0x01).writeByte(0x80 | 0x10 | 0x05).writeByte(0).writeByte(4);
        b.writeShort(0).writeShort(lu.alua().groupOf(nexus.targetName(), nexus.tpgTag()).id());
        // SCSI name strings (UTF-8), target port (01b) then target device (10b), type 8
        nameString(b, proto, 0x10, nexus.targetPortName());
        nameString(b, proto, 0x20, nexus.targetName());
        b.setShort(lenAt, b.writerIndex() - lenAt - 2);
    }

    private static void nameString(ByteBuf b, int proto, int association, String name) {
        if (name == null || name.isEmpty()) {
            return;
        }
        byte[] s = name.getBytes(StandardCharsets.UTF_8);
        int len = Math.min((s.length + 4) & ~3, 252); // null-terminated, multiple of 4 (SPC-4 7.8.6.11)
        b.writeByte(proto | 0x03).writeByte(0x80 | association | 0x08).writeByte(0).writeByte(len);
        int n = Math.min(s.length, len - 1);
        b.writeBytes(s, 0, n).writeZero(len - n);
    }

    /** NAA 6h: company ID, then 100 vendor-specific bits from a digest of the serial (SPC-4 7.8.6.6.5). */
    public static byte[] naa(String serial) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(serial.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] n = new byte[16];
        n[0] = (byte) (0x60 | (IEEE_COMPANY_ID >>> 20));
        n[1] = (byte) (IEEE_COMPANY_ID >>> 12);
        n[2] = (byte) (IEEE_COMPANY_ID >>> 4);
        n[3] = (byte) ((IEEE_COMPANY_ID & 0x0F) << 4 | (digest[0] & 0x0F));
        System.arraycopy(digest, 1, n, 4, 12);
        return n;
    }

    /**
     * SPC-4 7.8.17 THIRD-PARTY COPY: the LID1 copy manager's supported commands (0001h), supported
     * descriptors (0004h) and parameter data (0008h), the same limits RECEIVE COPY RESULTS reports.
     */
    static void thirdPartyCopy(ByteBuf b) {
        b.writeByte(0x00).writeByte(0x8F);
        int lenAt = b.writerIndex();
        b.writeShort(0);
        // Supported Commands (SPC-4 7.8.17.3): EXTENDED COPY SA 00h; RECEIVE COPY RESULTS SAs 00h, 03h, 04h
        byte[] commands = {(byte) ExtendedCopy.EXTENDED_COPY, 1, 0x00, (byte) ExtendedCopy.RECEIVE_COPY_RESULTS, 3,
                ExtendedCopy.SA_COPY_STATUS, ExtendedCopy.SA_OPERATING_PARAMETERS, ExtendedCopy.SA_FAILED_SEGMENT_DETAILS};
        int body = (1 + commands.length + 3) & ~3;
        b.writeShort(0x0001).writeShort(body).writeByte(commands.length).writeBytes(commands)
                .writeZero(body - 1 - commands.length);
        // Supported Descriptors (SPC-4 7.8.17.6): block to block segment, identification target descriptor
        int[] types = ExtendedCopy.implementedDescriptors();
        body = (1 + types.length + 3) & ~3;
        b.writeShort(0x0004).writeShort(body).writeByte(types.length);
        for (int t : types) {
            b.writeByte(t);
        }
        b.writeZero(body - 1 - types.length);
        // Parameter Data (SPC-4 7.8.17.5)
        b.writeShort(0x0008).writeShort(0x1C).writeZero(4);
        b.writeShort(ExtendedCopy.MAX_TARGETS).writeShort(ExtendedCopy.MAX_SEGMENTS);
        b.writeInt(ExtendedCopy.MAX_DESCRIPTOR_LIST).writeInt(0); // MAXIMUM INLINE DATA LENGTH
        b.writeZero(12);
        b.setShort(lenAt, b.writerIndex() - lenAt - 2);
    }

    /** MAXIMUM TRANSFER LENGTH in blocks: the backstore's limit, at most the core's {@link #MAX_TRANSFER_BYTES}. */
    public static int maxTransferBlocks(ScsiLogicalUnit lu) {
        return (int) (Math.min(lu.limits().maxTransferBytes(), MAX_TRANSFER_BYTES) / lu.blockSize());
    }

    /** MAXIMUM ATOMIC TRANSFER LENGTH in blocks (WRITE ATOMIC): what the backstore writes atomically. */
    public static int maxAtomicBlocks(ScsiLogicalUnit lu) {
        return (int) (Math.min(lu.limits().maxAtomicBytes(), MAX_TRANSFER_BYTES) / lu.blockSize());
    }

    /** MAXIMUM UNMAP LBA COUNT: the core's {@link #MAX_UNMAP_BLOCKS}, or less when the backstore says so. */
    public static long maxUnmapBlocks(ScsiLogicalUnit lu) {
        long max = lu.limits().maxUnmapBytes();
        return max == 0 ? MAX_UNMAP_BLOCKS : Math.max(1, Math.min(MAX_UNMAP_BLOCKS, max / lu.blockSize()));
    }

    /** SBC-3 6.5.3: BLOCK LIMITS, from the backstore's {@link BackstoreLimits}. */
    static void blockLimits(ByteBuf b, ScsiLogicalUnit lu) {
        int bs = lu.blockSize();
        boolean thin = lu.thinProvisioned();
        b.writeByte(0x00).writeByte(0xB0).writeShort(0x3C);
        b.writeByte(0x00); // WSNZ 0: WRITE SAME with 0 blocks means "to the end"
        b.writeByte(MAX_COMPARE_AND_WRITE_BLOCKS);
        int perPhysical = 1 << lu.physicalBlockExponent();
        BackstoreLimits limits = lu.limits();
        long granularity = limits.optimalGranularityBytes() == 0 ? perPhysical
                : Math.max(1, limits.optimalGranularityBytes() / bs);
        b.writeShort((int) Math.min(granularity, 0xFFFF)); // OPTIMAL TRANSFER LENGTH GRANULARITY (the backstore's)
        b.writeInt(maxTransferBlocks(lu)); // MAXIMUM TRANSFER LENGTH
        b.writeInt((int) (Math.min(limits.optimalTransferBytes(), MAX_TRANSFER_BYTES) / bs)); // OPTIMAL TRANSFER LENGTH
        b.writeInt(maxTransferBlocks(lu)); // MAXIMUM PREFETCH LENGTH
        b.writeInt(thin ? (int) maxUnmapBlocks(lu) : 0); // MAXIMUM UNMAP LBA COUNT
        b.writeInt(thin ? MAX_UNMAP_DESCRIPTORS : 0); // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
        long unmapGranularity = limits.unmapGranularityBytes() == 0 ? perPhysical
                : Math.max(1, limits.unmapGranularityBytes() / bs);
        b.writeInt(thin ? (int) Math.min(unmapGranularity, Integer.MAX_VALUE) : 0); // OPTIMAL UNMAP GRANULARITY
        b.writeInt(0); // UGAVALID 0
        b.writeLong(MAX_WRITE_SAME_BLOCKS); // MAXIMUM WRITE SAME LENGTH
        b.writeInt(maxAtomicBlocks(lu)); // MAXIMUM ATOMIC TRANSFER LENGTH
        b.writeInt(0); // ATOMIC ALIGNMENT: none
        b.writeInt(0); // ATOMIC TRANSFER LENGTH GRANULARITY: none
        b.writeInt(0); // MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY: boundaries not supported
        b.writeInt(0); // MAXIMUM ATOMIC BOUNDARY SIZE
    }

    /** SBC-3 6.5.2: BLOCK DEVICE CHARACTERISTICS; rotation rate and form factor not reported. */
    static void blockDeviceCharacteristics(ByteBuf b, ScsiLogicalUnit lu) {
        b.writeByte(0x00).writeByte(0xB1).writeShort(0x3C);
        b.writeShort(0x0000); // MEDIUM ROTATION RATE: not reported
        b.writeByte(0); // PRODUCT TYPE
        // Byte 7 (SBC-3 6.5.2): WABEREQ (bits 7-6) 01b when SANITIZE BLOCK ERASE is offered (thin, LBPRZ): erased
        // blocks read as zeros with GOOD; WACEREQ (bits 5-4) 01b when CRYPTOGRAPHIC ERASE is offered (the
        // backstore encrypts): reads after it succeed with data that is not the old data; else 00b.
        b.writeByte((lu.unmapReadsZeros() ? 0x40 : 0) | (lu.cryptographicErase() ? 0x10 : 0));
        b.writeZero(0x40 - 8);
    }

    /**
     * SBC-3 6.5.4: LOGICAL BLOCK PROVISIONING: thin, UNMAP and WRITE SAME (16/10) with UNMAP; LBPRZ 001b
     * when deallocated blocks read as zeros, else 000b (their contents are undefined).
     */
    static void logicalBlockProvisioning(ByteBuf b, ScsiLogicalUnit lu) {
        b.writeByte(0x00).writeByte(0xB2).writeShort(4);
        b.writeByte(0); // THRESHOLD EXPONENT
        b.writeByte(0x80 | 0x40 | 0x20 | (lu.unmapReadsZeros() ? 0x04 : 0)); // LBPU LBPWS LBPWS10 LBPRZ
        b.writeByte(0x02); // PROVISIONING TYPE 010b: thin
        b.writeByte(0);
    }

    static String pad(String s, int len) {
        StringBuilder sb = new StringBuilder(len);
        for (int i = 0; i < len; i++) {
            char ch = i < s.length() ? s.charAt(i) : ' ';
            sb.append(ch >= 0x20 && ch < 0x7F ? ch : ' ');
        }
        return sb.toString();
    }

    static void ascii(ByteBuf b, String s, int len) {
        b.writeBytes(pad(s, len).getBytes(StandardCharsets.US_ASCII));
    }
}
