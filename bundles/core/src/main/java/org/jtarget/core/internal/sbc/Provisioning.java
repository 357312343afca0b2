package org.jtarget.core.internal.sbc;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.core.internal.spc.Inquiry;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.backstore.ZeroWriting;
import org.jtarget.spi.fabric.ScsiResponse;

/** WRITE SAME(10)/(16), UNMAP and GET LBA STATUS (SBC-3 4.7 logical block provisioning). */
public final class Provisioning {
    /** Bytes written per backstore call when WRITE SAME expands its block. */
    static final int WRITE_SAME_CHUNK = 1 << 20;

    private Provisioning() {
    }

    /**
     * SBC-3 5.41/5.42: writes the Data-Out block (zeros with NDOB) to every block of the range. With
     * UNMAP set the range is deallocated instead, whatever the block holds (it then reads back as
     * zeros, LBPRZ), as LIO and initiators expect (SBC-3 4.7.3.4). A backstore whose deallocated blocks
     * read back undefined (LBPRZ 0) has the data written instead, so a read returns what was written.
     */
    public static CompletionStage<ScsiResponse> writeSame(Command c) {
        ParsedCommand p = c.parsed();
        if (p.blocks() == 0) {
            return c.good();
        }
        Backstore bs = c.backstore();
        int blockSize = bs.blockSize();
        ByteBuf block = c.dataOut() == null ? null : c.dataOut().slice(c.dataOut().readerIndex(), blockSize);
        boolean unmap = p.cdb().bit(1, 3);
        ThinProvisioning thin = bs.thinProvisioning().orElse(null);
        if (unmap && thin != null && thin.readsZerosAfterUnmap()) {
            return ReadWrite.gated(c, false, v -> thin.unmap(p.lba(), p.blocks())).thenApply(v -> c.goodResponse());
        }
        ZeroWriting zeroes = bs.zeroWriting().orElse(null);
        if (zeroes != null && (block == null || allZero(block))) { // the backstore zeroes without being sent zeros
            return ReadWrite.gated(c, false, v -> zeroes.writeZeroes(p.lba(), p.blocks(), unmap, false))
                    .thenApply(v -> c.goodResponse());
        }
        int perChunk = (int) Math.min(p.blocks(), Math.max(1, WRITE_SAME_CHUNK / blockSize));
        ByteBuf pattern = Command.allocate(perChunk * blockSize);
        for (int i = 0; i < perChunk; i++) {
            if (block == null) {
                pattern.writeZero(blockSize);
            } else {
                pattern.writeBytes(block, block.readerIndex(), blockSize);
            }
        }
        CompletionStage<Void> done = ReadWrite.gated(c, false,
                v -> writeChunks(bs, p.lba(), p.blocks(), pattern, perChunk, blockSize));
        return done.whenComplete((v, t) -> pattern.release()).thenApply(v -> c.goodResponse());
    }

    private static boolean allZero(ByteBuf block) {
        return block.forEachByte(b -> b == 0) < 0;
    }

    /** Writes {@code pattern} (perChunk blocks) repeatedly, one backstore call after the other. */
    private static CompletionStage<Void> writeChunks(Backstore bs, long lba, long blocks, ByteBuf pattern,
                                                     int perChunk, int blockSize) {
        int n = (int) Math.min(blocks, perChunk);
        CompletionStage<Void> s = bs.write(lba, pattern.slice(0, n * blockSize), false);
        if (blocks == n) {
            return s;
        }
        return s.thenCompose(v -> writeChunks(bs, lba + n, blocks - n, pattern, perChunk, blockSize));
    }


    /**
     * SBC-3 5.28 UNMAP: parameter list header (8 bytes) then 16-byte block descriptors; every descriptor
     * is checked (range, MAXIMUM UNMAP LBA COUNT, MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT) before any is
     * applied.
     */
    public static CompletionStage<ScsiResponse> unmap(Command c) {
        int len = c.dataOutLength();
        if (len == 0) {
            return c.good();
        }
        if (len < 8) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        ByteBuf p = c.dataOut();
        int base = p.readerIndex();
        int descriptorBytes = Math.min(p.getUnsignedShort(base + 2), len - 8);
        int count = descriptorBytes / 16;
        if (count > Inquiry.MAX_UNMAP_DESCRIPTORS) {
            throw Sense.invalidParameterField(2, -1).exception();
        }
        Backstore bs = c.backstore();
        long capacity = bs.blockCount();
        List<long[]> ranges = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = base + 8 + 16 * i;
            long lba = p.getLong(at);
            long blocks = p.getUnsignedInt(at + 8);
            if (lba < 0 || lba > capacity || blocks > capacity - lba) {
                throw Sense.of(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE).exception();
            }
            if (blocks > Inquiry.maxUnmapBlocks(c.lu())) {
                throw Sense.invalidParameterField(8 + 16 * i + 8, -1).exception();
            }
            if (blocks > 0) {
                ranges.add(new long[] {lba, blocks});
            }
        }
        ThinProvisioning thin = bs.thinProvisioning().orElseThrow(
                () -> Sense.of(SenseReason.INVALID_COMMAND_OPERATION_CODE).exception());
        if (ranges.isEmpty()) {
            return c.good();
        }
        return ReadWrite.gated(c, false, v -> {
            CompletableFuture<?>[] all = new CompletableFuture<?>[ranges.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = thin.unmap(ranges.get(i)[0], ranges.get(i)[1]).toCompletableFuture();
            }
            return CompletableFuture.allOf(all);
        }).thenApply(v -> c.goodResponse());
    }

    /** SBC-3 5.8 GET LBA STATUS: as many LBA status descriptors from STARTING LBA as the allocation allows. */
    public static CompletionStage<ScsiResponse> getLbaStatus(Command c) {
        ParsedCommand p = c.parsed();
        Backstore bs = c.backstore();
        ThinProvisioning thin = bs.thinProvisioning().orElseThrow(
                () -> Sense.of(SenseReason.INVALID_COMMAND_OPERATION_CODE).exception());
        long capacity = bs.blockCount();
        int max = Math.max(1, Math.min(64, (p.allocationLength() - 8) / 16));
        ByteBuf b = Command.allocate(8 + 16 * max);
        b.writeZero(8);
        return describe(thin, b, p.lba(), capacity, max).handle((v, t) -> {
            if (t != null) {
                b.release();
                throw t instanceof java.util.concurrent.CompletionException ce ? ce
                        : new java.util.concurrent.CompletionException(t);
            }
            b.setInt(0, b.writerIndex() - 4); // PARAMETER DATA LENGTH
            return new ScsiResponse(org.jtarget.scsi.ScsiStatus.GOOD, b, null, 0);
        });
    }

    /** Appends up to {@code left} descriptors from {@code lba}, one extent query after the other. */
    private static CompletionStage<Void> describe(ThinProvisioning thin, ByteBuf b, long lba, long capacity, int left) {
        if (left == 0 || lba >= capacity) {
            return CompletableFuture.completedFuture(null);
        }
        return thin.extent(lba).thenCompose(e -> {
            long blocks = Math.min(e.blocks(), Math.min(capacity - lba, 0xFFFFFFFFL));
            b.writeLong(lba).writeInt((int) blocks).writeByte(e.mapped() ? 0 : 1).writeZero(3);
            return describe(thin, b, lba + blocks, capacity, left - 1);
        });
    }
}
