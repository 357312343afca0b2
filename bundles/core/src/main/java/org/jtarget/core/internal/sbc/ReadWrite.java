package org.jtarget.core.internal.sbc;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.scsi.WriteGate;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * Data-moving SBC-3 commands: READ, WRITE, WRITE AND VERIFY, VERIFY, COMPARE AND WRITE, ORWRITE.
 * Data-In buffers are direct pooled buffers filled by the backstore and handed to the fabric; Data-Out
 * is written in place (a slice) and released by the pipeline when the command ends.
 */
public final class ReadWrite {
    private ReadWrite() {
    }

    /** FUA (byte 1 bit 3) for the 10/12/16-byte CDBs; WRITE AND VERIFY always writes through. */
    static boolean fua(Cdb cdb) {
        int op = cdb.opcode();
        if (op == SbcCommands.WRITE_VERIFY_10 || op == SbcCommands.WRITE_VERIFY_12
                || op == SbcCommands.WRITE_VERIFY_16) {
            return true;
        }
        return SbcCommands.cdbSize(op) != 6 && cdb.bit(1, 3);
    }

    /** SBC-3 5.11-5.14 READ: TRANSFER LENGTH 0 transfers nothing (except READ(6), decoded as 256). */
    public static CompletionStage<ScsiResponse> read(Command c) {
        ParsedCommand p = c.parsed();
        if (p.blocks() == 0) {
            return c.good();
        }
        Backstore bs = c.backstore();
        // shared gate: a WRITE ATOMIC (exclusive) is seen whole or not at all. The backstore hands over a
        // buffer (its own, e.g. a network client's, or one from the pool), which goes to the fabric.
        return gated(c, false, v -> bs.read(p.lba(), (int) p.blocks(), Command.allocator()))
                .thenApply(buf -> new ScsiResponse(ScsiStatus.GOOD, buf, null, 0));
    }

    /**
     * SBC-3 5.36-5.40 WRITE, WRITE AND VERIFY: writes the whole blocks that arrived, at most TRANSFER LENGTH
     * (a shorter or longer Data-Out is the fabric's residual, RFC 7143 11.4.5).
     */
    public static CompletionStage<ScsiResponse> write(Command c) {
        return writeBlocks(c, false);
    }

    /**
     * SBC-4 5.49 WRITE ATOMIC(16): the blocks are written while no other read or write of the LU runs
     * (exclusive write gate), so no command observes a partial update.
     */
    public static CompletionStage<ScsiResponse> writeAtomic(Command c) {
        return writeBlocks(c, true);
    }

    /** The whole blocks of the Data-Out at the CDB's LBA, behind the shared or the exclusive write gate. */
    private static CompletionStage<ScsiResponse> writeBlocks(Command c, boolean exclusive) {
        ParsedCommand p = c.parsed();
        Backstore bs = c.backstore();
        int blockSize = bs.blockSize();
        int blocks = c.dataOutLength() / blockSize;
        if (blocks == 0) {
            return c.good();
        }
        ByteBuf src = c.dataOut().slice(c.dataOut().readerIndex(), blocks * blockSize);
        boolean fua = fua(p.cdb());
        return gated(c, exclusive, v -> bs.write(p.lba(), src, fua)).thenApply(v -> c.goodResponse());
    }

    /** Runs {@code io} while holding the LU's write gate (shared for writes, exclusive for read-modify-write). */
    static <T> CompletionStage<T> gated(Command c, boolean exclusive, Function<Void, CompletionStage<T>> io) {
        WriteGate gate = c.lu().writeGate();
        CompletionStage<T> s = gate.acquire(exclusive).thenCompose(io);
        return s.whenComplete((r, t) -> gate.release(exclusive));
    }

    /** SBC-3 5.33-5.35 VERIFY: BYTCHK 00b checks the range only; 01b/11b compare with the medium. */
    public static CompletionStage<ScsiResponse> verify(Command c) {
        ParsedCommand p = c.parsed();
        int bytchk = (p.cdb().u8(1) >>> 1) & 0x03;
        if (bytchk == 0 || p.blocks() == 0) {
            return c.good();
        }
        Backstore bs = c.backstore();
        int blockSize = bs.blockSize();
        ByteBuf data = c.dataOut();
        if (data == null || c.dataOutLength() < p.dataOutLength()) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        return gated(c, false, g -> readThen(bs, p.lba(), (int) p.blocks(), blockSize, medium -> {
            long at = bytchk == 1 ? mismatch(medium, data, 0, medium.readableBytes())
                    : mismatchEachBlock(medium, data, blockSize);
            if (at >= 0) {
                throw Sense.of(SenseReason.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(at).exception();
            }
            return CompletableFuture.completedFuture(c.goodResponse());
        }));
    }

    /**
     * SBC-3 5.2 COMPARE AND WRITE: compare the first half of Data-Out with the medium; if equal write the
     * second half, atomically against every other write (exclusive write gate). MISCOMPARE carries the
     * offset of the first differing byte in INFORMATION.
     */
    public static CompletionStage<ScsiResponse> compareAndWrite(Command c) {
        ParsedCommand p = c.parsed();
        if (p.blocks() == 0) {
            return c.good();
        }
        Backstore bs = c.backstore();
        int len = (int) (p.blocks() * bs.blockSize());
        ByteBuf data = c.dataOut();
        boolean fua = fua(p.cdb());
        return gated(c, true, v -> readThen(bs, p.lba(), (int) p.blocks(), bs.blockSize(), medium -> {
            long at = mismatch(medium, data, 0, len);
            if (at >= 0) {
                throw Sense.of(SenseReason.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(at).exception();
            }
            return bs.write(p.lba(), data.slice(data.readerIndex() + len, len), fua)
                    .thenApply(x -> new ScsiResponse(ScsiStatus.GOOD, null, null, p.dataOutLength()));
        }));
    }

    /** SBC-3 5.10 ORWRITE(16): medium := medium OR Data-Out, atomically (exclusive write gate). */
    public static CompletionStage<ScsiResponse> orWrite(Command c) {
        ParsedCommand p = c.parsed();
        Backstore bs = c.backstore();
        int blocks = c.dataOutLength() / bs.blockSize();
        if (blocks == 0) {
            return c.good();
        }
        ByteBuf data = c.dataOut();
        boolean fua = fua(p.cdb());
        return gated(c, true, v -> readThen(bs, p.lba(), blocks, bs.blockSize(), medium -> {
            int n = medium.readableBytes();
            for (int i = 0; i < n; i++) {
                medium.setByte(i, medium.getByte(i) | data.getByte(data.readerIndex() + i));
            }
            return bs.write(p.lba(), medium, fua).thenApply(x -> c.goodResponse());
        }));
    }

    /** Reads into a scratch buffer, runs {@code then} on it, and releases it when that stage ends. */
    static <T> CompletionStage<T> readThen(Backstore bs, long lba, int blocks, int blockSize,
                                           Function<ByteBuf, CompletionStage<T>> then) {
        // callers hold the gate exclusively (or compare only), so the read needs no gate of its own
        return bs.read(lba, blocks, Command.allocator()).thenCompose(medium -> {
            CompletionStage<T> s;
            try {
                s = then.apply(medium);
            } catch (RuntimeException e) {
                medium.release();
                throw e;
            }
            return s.whenComplete((r, t) -> medium.release());
        });
    }

    /** Offset of the first byte where {@code medium} and {@code data}[from..] differ, or -1. */
    static long mismatch(ByteBuf medium, ByteBuf data, int from, int len) {
        int base = data.readerIndex() + from;
        for (int i = 0; i < len; i++) {
            if (medium.getByte(medium.readerIndex() + i) != data.getByte(base + i)) {
                return i;
            }
        }
        return -1;
    }

    /** BYTCHK 11b: one Data-Out block compared against every block read (offset within the medium data). */
    static long mismatchEachBlock(ByteBuf medium, ByteBuf block, int blockSize) {
        int n = medium.readableBytes();
        for (int i = 0; i < n; i++) {
            if (medium.getByte(medium.readerIndex() + i) != block.getByte(block.readerIndex() + i % blockSize)) {
                return i;
            }
        }
        return -1;
    }
}
