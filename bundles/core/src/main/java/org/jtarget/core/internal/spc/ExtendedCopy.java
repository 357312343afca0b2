package org.jtarget.core.internal.spc;

import static org.jtarget.core.internal.cmd.OpcodeDescriptor.MEDIUM;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.usage;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.sense.SenseData;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * EXTENDED COPY (LID1, SPC-4 6.3) and RECEIVE COPY RESULTS (SPC-4 6.18): the copy manager copies
 * between LUs this I_T nexus can reach, named by identification descriptor target descriptors (E4h)
 * carrying their NAA designator (VPD 0x83), with block device to block device segments (02h). The data
 * moves from backstore to backstore inside the target, never through the initiator (VMware XCOPY).
 */
public final class ExtendedCopy {
    public static final int EXTENDED_COPY = 0x83, RECEIVE_COPY_RESULTS = 0x84;
    /** RECEIVE COPY RESULTS service actions (SPC-4 6.18.1). */
    public static final int SA_COPY_STATUS = 0x00, SA_OPERATING_PARAMETERS = 0x03, SA_FAILED_SEGMENT_DETAILS = 0x04;
    static final int TARGET_DESCRIPTOR = 0xE4, BLOCK_TO_BLOCK = 0x02;
    static final int TARGET_LENGTH = 32, SEGMENT_LENGTH = 28, HEADER = 16;
    /** Limits reported in the operating parameters and VPD 0x8F. */
    public static final int MAX_TARGETS = 8, MAX_SEGMENTS = 64, MAX_DESCRIPTOR_LIST = 2048,
            MAX_SEGMENT_BYTES = 256 << 20;
    static final int CHUNK = 1 << 20;

    private ExtendedCopy() {
    }

    public static List<OpcodeDescriptor> descriptors() {
        return List.of(
                new OpcodeDescriptor("EXTENDED COPY (LID1)", EXTENDED_COPY, 0x00, usage(EXTENDED_COPY, 0x00, 0, 0, 0, 0,
                        0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), MEDIUM,
                        (cdb, d, lu) -> ParsedCommand.control(cdb, d, (int) Math.min(cdb.u32(10), Integer.MAX_VALUE), 0),
                        ExtendedCopy::extendedCopy, lu -> true),
                rcr("RECEIVE COPY RESULTS (COPY STATUS)", SA_COPY_STATUS),
                rcr("RECEIVE COPY RESULTS (OPERATING PARAMETERS)", SA_OPERATING_PARAMETERS),
                rcr("RECEIVE COPY RESULTS (FAILED SEGMENT DETAILS)", SA_FAILED_SEGMENT_DETAILS));
    }

    /** SPC-4 6.18: LIST IDENTIFIER byte 2, ALLOCATION LENGTH bytes 10-13. */
    private static OpcodeDescriptor rcr(String name, int sa) {
        return new OpcodeDescriptor(name, RECEIVE_COPY_RESULTS, sa, usage(RECEIVE_COPY_RESULTS, sa, 0xFF, 0, 0, 0, 0, 0,
                0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), 0,
                (cdb, d, lu) -> ParsedCommand.control(cdb, d, 0, (int) Math.min(cdb.u32(10), Integer.MAX_VALUE)),
                ExtendedCopy::receiveCopyResults, lu -> true);
    }

    /** A resolved CSCD: the LU (null when unreachable) and whether the descriptor named the null device. */
    private record Target(ScsiLogicalUnit lu, boolean nul, int blockLength) {
    }

    private record Segment(int offset, int source, int destination, int blocks, long sourceLba,
                           long destinationLba) {
    }

    /** SPC-4 6.3.1: validates the whole parameter list, then runs the segments in order. */
    static CompletionStage<ScsiResponse> extendedCopy(Command c) {
        int len = c.dataOutLength();
        if (len == 0) { // SPC-4 6.3.1: no parameter data is not an error
            return c.good();
        }
        ByteBuf p = c.dataOut();
        int base = p.readerIndex();
        if (len < HEADER) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        int listId = p.getUnsignedByte(base);
        int usage = (p.getUnsignedByte(base + 1) >>> 3) & 0x03; // LIST ID USAGE (SPC-4 table 104)
        int targetBytes = p.getUnsignedShort(base + 2);
        long segmentBytes = p.getUnsignedInt(base + 8);
        long inlineBytes = p.getUnsignedInt(base + 12);
        if (targetBytes + segmentBytes > MAX_DESCRIPTOR_LIST || HEADER + targetBytes + segmentBytes + inlineBytes > len) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        if (usage == 0x01) {
            throw Sense.invalidParameterField(1, 4).exception();
        }
        if (targetBytes % TARGET_LENGTH != 0) {
            throw Sense.invalidParameterField(2, -1).exception();
        }
        if (targetBytes / TARGET_LENGTH > MAX_TARGETS) {
            throw Sense.of(SenseReason.TOO_MANY_TARGET_DESCRIPTORS).exception();
        }
        if (inlineBytes != 0) { // MAXIMUM INLINE DATA LENGTH is 0
            throw Sense.invalidParameterField(12, -1).exception();
        }
        List<Target> targets = new ArrayList<>();
        for (int off = HEADER; off < HEADER + targetBytes; off += TARGET_LENGTH) {
            targets.add(target(p, base, off, c.nexus().luns()));
        }
        List<Segment> segments = new ArrayList<>();
        int end = (int) (HEADER + targetBytes + segmentBytes);
        for (int off = HEADER + targetBytes; off < end; ) {
            if (end - off < 4) {
                throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
            }
            int type = p.getUnsignedByte(base + off);
            int descriptorLength = p.getUnsignedShort(base + off + 2);
            if (type != BLOCK_TO_BLOCK) {
                throw Sense.of(SenseReason.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE).exception();
            }
            if (descriptorLength != SEGMENT_LENGTH - 4) {
                throw Sense.invalidParameterField(off + 2, -1).exception();
            }
            if (off + SEGMENT_LENGTH > end) {
                throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
            }
            if (segments.size() == MAX_SEGMENTS) {
                throw Sense.of(SenseReason.TOO_MANY_SEGMENT_DESCRIPTORS).exception();
            }
            int at = base + off;
            segments.add(new Segment(off, p.getUnsignedShort(at + 4), p.getUnsignedShort(at + 6),
                    p.getUnsignedShort(at + 10), p.getLong(at + 12), p.getLong(at + 20)));
            off += SEGMENT_LENGTH;
        }
        boolean hold = usage == 0x00;
        CopyResults results = c.nexus().copyResults();
        long[] copied = new long[1];
        int[] done = new int[1];
        CompletionStage<Void> run = CompletableFuture.completedFuture(null);
        for (Segment s : segments) {
            run = run.thenCompose(v -> segment(s, targets, copied)).thenRun(() -> done[0]++);
        }
        return run.handle((v, t) -> {
            if (t == null) {
                if (hold) {
                    results.hold(listId, new CopyResults.Result(0x01, done[0], copied[0], null));
                }
                return c.goodResponse();
            }
            Sense sense = SenseData.fromThrowable(t);
            if (hold) {
                results.hold(listId, new CopyResults.Result(0x02, done[0], copied[0], SenseData.encode(sense, false)));
            }
            throw sense.exception();
        });
    }

    /**
     * SPC-4 6.3.6.2 target descriptor and 6.3.6.4 identification descriptor (E4h): NUL, PERIPHERAL DEVICE
     * TYPE 00h, the designator (bytes 4-27), DISK BLOCK LENGTH (bytes 29-31). Only an NAA LU designator of an LU this
     * nexus can reach resolves; anything else is found unreachable when a segment uses it.
     */
    private static Target target(ByteBuf p, int base, int off, LunMap luns) {
        int at = base + off;
        if (p.getUnsignedByte(at) != TARGET_DESCRIPTOR) {
            throw Sense.of(SenseReason.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE).exception();
        }
        int b1 = p.getUnsignedByte(at + 1);
        // LU ID TYPE (bits 7-6) qualifies a LU IDENTIFIER field, which E4h does not have: ignored
        if ((b1 & 0x1F) != 0) { // PERIPHERAL DEVICE TYPE: block devices only
            throw Sense.invalidParameterField(off + 1, 4).exception();
        }
        boolean nul = (b1 & 0x20) != 0;
        int association = (p.getUnsignedByte(at + 5) >>> 4) & 0x03;
        int designatorType = p.getUnsignedByte(at + 5) & 0x0F;
        int length = p.getUnsignedByte(at + 7);
        int blockLength = p.getUnsignedMedium(at + 29);
        ScsiLogicalUnit found = null;
        if (!nul && association == 0 && designatorType == 3 && length == 16) {
            byte[] naa = new byte[16];
            p.getBytes(at + 8, naa);
            for (int lun : luns.luns()) {
                LogicalUnit lu = luns.get(lun);
                if (lu instanceof ScsiLogicalUnit s && Arrays.equals(s.naa(), naa)) {
                    found = s;
                    break;
                }
            }
        }
        return new Target(found, nul, blockLength);
    }

    /** One block-to-block segment (SPC-4 6.3.7.5), chunk by chunk from backstore to backstore. */
    private static CompletionStage<Void> segment(Segment s, List<Target> targets, long[] copied) {
        if (s.source >= targets.size() || s.destination >= targets.size()) {
            throw Sense.of(SenseReason.UNREACHABLE_COPY_TARGET).exception();
        }
        Target src = targets.get(s.source);
        Target dst = targets.get(s.destination);
        ScsiLogicalUnit from = reachable(src);
        ScsiLogicalUnit to = reachable(dst);
        int blockSize = from.blockSize();
        if (to.blockSize() != blockSize || (src.blockLength != 0 && src.blockLength != blockSize)
                || (dst.blockLength != 0 && dst.blockLength != to.blockSize())) {
            throw Sense.of(SenseReason.COPY_ABORTED_NO_ADDITIONAL_SENSE).exception();
        }
        // the copy target's own checks; failures become COPY ABORTED (SPC-4 6.3.4)
        if (s.sourceLba < 0 || s.sourceLba + s.blocks > from.blockCount() || s.destinationLba < 0
                || s.destinationLba + s.blocks > to.blockCount() || to.writeProtected()) {
            throw Sense.of(SenseReason.COPY_ABORTED_NO_ADDITIONAL_SENSE).exception();
        }
        if (s.blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        ScsiLogicalUnit.Lease in = from.acquire();
        ScsiLogicalUnit.Lease out = in == null ? null : to.acquire();
        if (out == null) {
            if (in != null) {
                in.release();
            }
            throw Sense.of(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE).exception();
        }
        int perChunk = Math.max(1, CHUNK / blockSize);
        ByteBuf buf = Command.allocate(Math.min(perChunk, s.blocks) * blockSize);
        CompletionStage<Void> copy = to.writeGate().acquire(false)
                .thenCompose(v -> copyFrom(in.backstore(), out.backstore(), s.sourceLba, s.destinationLba, s.blocks,
                        perChunk, buf, copied))
                .whenComplete((v, t) -> to.writeGate().release(false));
        return copy.whenComplete((v, t) -> {
            buf.release();
            in.release();
            out.release();
        });
    }

    private static ScsiLogicalUnit reachable(Target t) {
        ScsiLogicalUnit lu = t.lu;
        if (t.nul || lu == null || !lu.online() || lu.mediumAbsent() || lu.sanitize().running()) {
            throw Sense.of(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE).exception();
        }
        return lu;
    }

    private static CompletionStage<Void> copyFrom(Backstore from, Backstore to, long src, long dst, long blocks,
                                                  int perChunk, ByteBuf buf, long[] copied) {
        if (blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        int n = (int) Math.min(blocks, perChunk);
        buf.clear();
        return from.read(src, n, buf)
                .thenCompose(v -> to.write(dst, buf, false))
                .thenCompose(v -> {
                    copied[0] += buf.readableBytes();
                    return copyFrom(from, to, src + n, dst + n, blocks - n, perChunk, buf, copied);
                });
    }

    static CompletionStage<ScsiResponse> receiveCopyResults(Command c) {
        int sa = c.cdb().serviceAction();
        int listId = c.cdb().u8(2);
        ByteBuf b;
        if (sa == SA_OPERATING_PARAMETERS) { // SPC-4 6.18.4
            b = Command.allocate(46);
            b.writeInt(46 - 4); // AVAILABLE DATA
            b.writeByte(0x01).writeZero(3); // SNLID: list identifiers are held per nexus
            b.writeShort(MAX_TARGETS).writeShort(MAX_SEGMENTS);
            b.writeInt(MAX_DESCRIPTOR_LIST).writeInt(MAX_SEGMENT_BYTES);
            b.writeInt(0); // MAXIMUM INLINE DATA LENGTH
            b.writeInt(0); // HELD DATA LIMIT: no held data
            b.writeInt(0); // MAXIMUM STREAM DEVICE TRANSFER SIZE
            b.writeShort(0); // reserved
            b.writeShort(MAX_TARGETS); // TOTAL CONCURRENT COPIES
            b.writeByte(MAX_TARGETS); // MAXIMUM CONCURRENT COPIES
            b.writeByte(20); // DATA SEGMENT GRANULARITY (log2): 1 MiB chunks
            b.writeByte(0).writeByte(0); // INLINE DATA GRANULARITY, HELD DATA GRANULARITY
            b.writeZero(3);
            b.writeByte(2); // IMPLEMENTED DESCRIPTOR LIST LENGTH
            b.writeByte(BLOCK_TO_BLOCK).writeByte(TARGET_DESCRIPTOR);
            return c.respond(b);
        }
        CopyResults.Result r = c.nexus().copyResults().get(listId);
        if (r == null) { // no held result for this list identifier
            throw Sense.invalidCdbField(2, -1).exception();
        }
        if (sa == SA_COPY_STATUS) { // SPC-4 6.18.2
            b = Command.allocate(12);
            b.writeInt(8);
            b.writeByte(r.status()); // HDD 0, COPY MANAGER STATUS
            b.writeShort(Math.min(r.segmentsProcessed(), 0xFFFF));
            b.writeByte(0); // TRANSFER COUNT UNITS: bytes
            b.writeInt((int) Math.min(r.bytes(), 0xFFFFFFFFL));
            return c.respond(b);
        }
        // SPC-4 6.18.5 FAILED SEGMENT DETAILS: none for a copy that completed without error
        byte[] sense = r.sense() == null ? new byte[0] : r.sense();
        if (sense.length == 0) {
            b = Command.allocate(4);
            b.writeInt(0);
            return c.respond(b);
        }
        b = Command.allocate(60 + sense.length);
        b.writeInt(56 + sense.length);
        b.writeZero(52);
        b.writeByte(0x02); // COPY COMMAND STATUS: CHECK CONDITION
        b.writeByte(0);
        b.writeShort(sense.length);
        b.writeBytes(sense);
        return c.respond(b);
    }

    /** For tests and VPD 0x8F: the descriptor type codes implemented. */
    static int[] implementedDescriptors() {
        return new int[] {BLOCK_TO_BLOCK, TARGET_DESCRIPTOR};
    }
}
