package org.jtarget.core.internal.sbc;

import static org.jtarget.core.internal.cmd.OpcodeDescriptor.MEDIUM;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.SANITIZE;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.WRITE;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.usage;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.scsi.SanitizeState;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.scsi.WriteGate;
import org.jtarget.core.internal.sense.ScsiException;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.CryptographicErase;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.fabric.ScsiResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SBC-3 5.30 SANITIZE: OVERWRITE (every block, OVERWRITE COUNT passes of the initialization pattern,
 * each chunk written through to stable storage), BLOCK ERASE (every block deallocated, offered only when
 * the backstore is thin provisioned), CRYPTOGRAPHIC ERASE (the media encryption key replaced, offered only
 * when the backstore encrypts: {@link CryptographicErase}) and EXIT FAILURE MODE. The operation runs in
 * the background; with IMMED the command ends at once, otherwise when it finishes. It goes on after
 * ABORT TASK, resets and I_T nexus loss (SBC-3 4.11);
 * meanwhile the pipeline answers NOT READY, SANITIZE IN PROGRESS with the progress indication.
 */
public final class Sanitize {
    private static final Logger LOG = LoggerFactory.getLogger(Sanitize.class);
    public static final int OPCODE = 0x48;
    /** Service actions (SBC-3 5.30.1, table 77). */
    public static final int OVERWRITE = 0x01, BLOCK_ERASE = 0x02, CRYPTOGRAPHIC_ERASE = 0x03,
            EXIT_FAILURE_MODE = 0x1F;
    /** Bytes per backstore call. */
    static final int CHUNK = 1 << 20;
    /**
     * Most bytes per second an OVERWRITE writes (system property {@code jtarget.sanitize.rate}, MiB/s,
     * default 128): a sanitize is a background operation and must not take all of the storage's
     * bandwidth (and the backstore's I/O threads) from the other LUs on the same disk.
     */
    static final long RATE = Long.getLong("jtarget.sanitize.rate", 128) << 20;

    private Sanitize() {
    }

    static List<OpcodeDescriptor> descriptors() {
        Predicate<ScsiLogicalUnit> always = lu -> true;
        Predicate<ScsiLogicalUnit> thin = lu -> lu == null || lu.unmapReadsZeros(); // erased blocks must read zeros
        Predicate<ScsiLogicalUnit> crypto = lu -> lu == null || lu.cryptographicErase();
        return List.of(d("SANITIZE (OVERWRITE)", OVERWRITE, always), d("SANITIZE (BLOCK ERASE)", BLOCK_ERASE, thin),
                d("SANITIZE (CRYPTOGRAPHIC ERASE)", CRYPTOGRAPHIC_ERASE, crypto),
                d("SANITIZE (EXIT FAILURE MODE)", EXIT_FAILURE_MODE, always));
    }

    /** CDB: IMMED (byte 1 bit 7), AUSE (bit 5), SERVICE ACTION; PARAMETER LIST LENGTH bytes 7-8. */
    private static OpcodeDescriptor d(String name, int sa, Predicate<ScsiLogicalUnit> available) {
        return new OpcodeDescriptor(name, OPCODE, sa, usage(OPCODE, 0xA0 | sa, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0),
                MEDIUM | WRITE | SANITIZE, Sanitize::parse, Sanitize::execute, available);
    }

    /**
     * SBC-3 5.30.2-5.30.5: OVERWRITE needs a parameter list of 5 to block length + 4 bytes; the other
     * service actions (BLOCK ERASE, CRYPTOGRAPHIC ERASE, EXIT FAILURE MODE) take none. Anything else is
     * INVALID FIELD IN CDB (PARAMETER LIST LENGTH).
     */
    static ParsedCommand parse(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        int length = cdb.u16(7);
        boolean ok = cdb.serviceAction() == OVERWRITE ? length >= 5 && length <= lu.blockSize() + 4 : length == 0;
        if (!ok) {
            throw Sense.invalidCdbField(7, -1).exception();
        }
        return ParsedCommand.control(cdb, d, length, 0);
    }

    static CompletionStage<ScsiResponse> execute(Command c) {
        Cdb cdb = c.cdb();
        ScsiLogicalUnit lu = c.lu();
        SanitizeState state = lu.sanitize();
        boolean immediate = cdb.bit(1, 7);
        boolean ause = cdb.bit(1, 5);
        int sa = cdb.serviceAction();
        if (sa == EXIT_FAILURE_MODE) {
            // SBC-3 4.11.4: only a failed operation that had AUSE set may be left this way
            if (state.failed() && !state.exitAllowed()) {
                throw Sense.invalidCdbField(1, 4).exception();
            }
            state.exitFailureMode();
            return c.good();
        }
        Backstore bs = c.backstore();
        Job job = switch (sa) {
            case OVERWRITE -> overwrite(c, bs);
            case CRYPTOGRAPHIC_ERASE -> cryptographicErase(bs);
            default -> blockErase(bs);
        };
        if (!state.start()) {
            throw Sense.of(SenseReason.LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS).withProgress(state.progress())
                    .exception();
        }
        ScsiLogicalUnit.Lease lease = lu.acquire(); // the job's own hold: it outlives the command
        if (lease == null) {
            state.finish(true, ause);
            throw Sense.of(SenseReason.LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION).exception();
        }
        WriteGate gate = lu.writeGate();
        CompletableFuture<Void> done = gate.acquire(true).thenCompose(v -> job.run(state)).toCompletableFuture();
        done.whenComplete((v, t) -> {
            gate.release(true);
            lease.release();
            state.finish(t == null, ause);
            if (t != null) {
                LOG.error("SANITIZE on {} failed; the LU is in sanitize failure mode", lu.name(), t);
            } else {
                LOG.info("SANITIZE ({}) on {} completed", switch (sa) {
                    case OVERWRITE -> "overwrite";
                    case CRYPTOGRAPHIC_ERASE -> "cryptographic erase";
                    default -> "block erase";
                }, lu.name());
            }
        });
        if (immediate) {
            return c.good();
        }
        CompletableFuture<ScsiResponse> response = done.thenApply(v -> c.goodResponse());
        c.onAbort(() -> response.completeExceptionally(new ScsiException(SenseReason.LOGICAL_UNIT_NOT_READY)));
        return response;
    }

    /** One background operation over the whole medium. */
    @FunctionalInterface
    interface Job {
        CompletionStage<Void> run(SanitizeState state);
    }

    /**
     * SBC-3 5.30.2.2 parameter list: INVERT (byte 0 bit 7), TEST (bits 6-5), OVERWRITE COUNT (bits 4-0),
     * INITIALIZATION PATTERN LENGTH (bytes 2-3), then the pattern, repeated to fill each block. The
     * pattern length must match the PARAMETER LIST LENGTH and lie in 1..block length.
     */
    static Job overwrite(Command c, Backstore bs) {
        ByteBuf p = c.dataOut();
        int len = c.dataOutLength();
        if (p == null || len < 5) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        int base = p.readerIndex();
        int b0 = p.getUnsignedByte(base);
        boolean invert = (b0 & 0x80) != 0;
        int count = b0 & 0x1F;
        int patternLength = p.getUnsignedShort(base + 2);
        int blockSize = bs.blockSize();
        if ((b0 & 0x60) != 0) { // TEST: vendor specific test modes, none here
            throw Sense.invalidParameterField(0, 6).exception();
        }
        // The pattern must fill the parameter list exactly: a zero, oversized or inconsistent pattern length
        // means the PARAMETER LIST LENGTH is wrong. libiscsi expects INVALID FIELD IN CDB for these and for
        // OVERWRITE COUNT 0; the field pointer names the CDB field that disagrees.
        if (patternLength == 0 || patternLength > blockSize || patternLength + 4 != len) {
            throw Sense.invalidCdbField(7, -1).exception();
        }
        if (count == 0) {
            throw Sense.invalidCdbField(7, -1).exception();
        }
        byte[] pattern = new byte[patternLength];
        p.getBytes(base + 4, pattern);
        long blocks = bs.blockCount();
        int perChunk = (int) Math.max(1, Math.min(blocks, CHUNK / blockSize));
        return state -> {
            ByteBuf chunk = Command.allocate(perChunk * blockSize);
            Pace pace = new Pace(System.nanoTime(), RATE);
            CompletionStage<Void> s = CompletableFuture.completedFuture(null);
            for (int pass = 0; pass < count; pass++) {
                boolean inverted = invert && (pass % 2 == 1); // INVERT: every other pass inverted (SBC-3 5.30.2.2)
                int passNo = pass;
                s = s.thenCompose(v -> {
                    fill(chunk, pattern, blockSize, perChunk, inverted);
                    return writeAll(bs, chunk, perChunk, 0, blocks, state, passNo, count, pace);
                });
            }
            return s.thenCompose(v -> bs.flush()).whenComplete((v, t) -> chunk.release());
        };
    }

    private static void fill(ByteBuf chunk, byte[] pattern, int blockSize, int blocks, boolean inverted) {
        byte[] block = new byte[blockSize];
        for (int i = 0; i < blockSize; i++) {
            byte v = pattern[i % pattern.length];
            block[i] = inverted ? (byte) ~v : v;
        }
        chunk.clear();
        for (int b = 0; b < blocks; b++) {
            chunk.writeBytes(block);
        }
    }

    /** Writes the chunk from {@code lba} to the end, one call after the other, each with FUA, paced. */
    private static CompletionStage<Void> writeAll(Backstore bs, ByteBuf chunk, int perChunk, long lba, long blocks,
                                                  SanitizeState state, int pass, int passes, Pace pace) {
        int n = (int) Math.min(perChunk, blocks - lba);
        if (n <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        state.progress((long) pass * blocks + lba, (long) passes * blocks);
        int bytes = n * bs.blockSize();
        return bs.write(lba, chunk.slice(0, bytes), true)
                .thenCompose(v -> pace.after(bytes))
                .thenCompose(v -> writeAll(bs, chunk, perChunk, lba + n, blocks, state, pass, passes, pace));
    }

    /** Keeps a job at or below {@code rate} bytes per second, without holding a thread while it waits. */
    static final class Pace {
        private final long start;
        private final long rate;
        private long bytes;

        Pace(long start, long rate) {
            this.start = start;
            this.rate = rate;
        }

        CompletionStage<Void> after(int written) {
            bytes += written;
            long due = start + bytes * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait < 1_000_000) {
                return CompletableFuture.completedFuture(null);
            }
            return CompletableFuture.runAsync(() -> { },
                    CompletableFuture.delayedExecutor(wait, java.util.concurrent.TimeUnit.NANOSECONDS));
        }
    }

    /** SBC-3 5.30.3 BLOCK ERASE: every block deallocated (reads return zeros, LBPRZ; WABEREQ 01b). */
    static Job blockErase(Backstore bs) {
        ThinProvisioning thin = bs.thinProvisioning().filter(ThinProvisioning::readsZerosAfterUnmap)
                .orElseThrow(() -> Sense.invalidCdbField(1, 4).exception());
        long blocks = bs.blockCount();
        long step = Math.max(1, (1L << 30) / bs.blockSize()); // 1 GiB per call, for the progress indication
        return state -> eraseFrom(thin, 0, blocks, step, state).thenCompose(v -> bs.flush());
    }

    /**
     * SBC-3 5.30.4 CRYPTOGRAPHIC ERASE: the backstore replaces its media encryption key, so every block
     * reads back as data that is not the old data (WACEREQ 01b); then made durable.
     */
    static Job cryptographicErase(Backstore bs) {
        CryptographicErase crypto = bs.cryptographicErase()
                .orElseThrow(() -> Sense.invalidCdbField(1, 4).exception());
        return state -> {
            state.progress(0, 1);
            return crypto.eraseKey().thenCompose(v -> bs.flush());
        };
    }

    private static CompletionStage<Void> eraseFrom(ThinProvisioning thin, long lba, long blocks, long step,
                                                   SanitizeState state) {
        if (lba >= blocks) {
            return CompletableFuture.completedFuture(null);
        }
        long n = Math.min(step, blocks - lba);
        state.progress(lba, blocks);
        return thin.unmap(lba, n).thenCompose(v -> eraseFrom(thin, lba + n, blocks, step, state));
    }
}
