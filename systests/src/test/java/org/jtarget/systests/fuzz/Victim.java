package org.jtarget.systests.fuzz;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jtarget.systests.wire.IscsiClient;

/**
 * A well-behaved session that must not notice the fuzzing: it writes random data to random block ranges of its
 * own LU (1 to 256 blocks, so both immediate data and R2T-solicited Data-Out, RFC 7143 §10.7), reads random
 * ranges back and compares every byte with what it wrote (a copy of the whole LU is kept here; never-written
 * blocks read as zeros), and pings with NOP-Out. Every command must end GOOD, every answer arrive within the
 * client timeout and the connection stay up: the first exception, non-GOOD status or wrong byte stops it and is
 * kept as {@link #failure()}. Counts go to {@code "victim: "}.
 */
public final class Victim implements Runnable {
    public static final int BLOCK = 512;
    private static final int MAX_BLOCKS = 256;

    private final IscsiClient client;
    private final int lun;
    private final SplittableRandom random;
    private final FuzzCounts counts;
    private final byte[] shadow;
    private final AtomicLong slowestMillis = new AtomicLong();
    private volatile boolean stop;
    private volatile Throwable failure;

    /** A logged-in {@code client} whose {@code lun} has {@code blocks} blocks of {@value #BLOCK} bytes, all zero. */
    public Victim(IscsiClient client, int lun, long blocks, SplittableRandom random, FuzzCounts counts) {
        this.client = client;
        this.lun = lun;
        this.random = random;
        this.counts = counts;
        this.shadow = new byte[Math.toIntExact(blocks * BLOCK)];
    }

    @Override
    public void run() {
        try {
            while (!stop) {
                int roll = random.nextInt(10);
                if (roll < 5) {
                    write();
                } else if (roll < 9) {
                    readAndVerify(random.nextInt(blocks()), 1 + random.nextInt(MAX_BLOCKS));
                } else {
                    timed(() -> {
                        byte[] payload = ("victim " + random.nextLong()).getBytes();
                        check(Arrays.equals(payload, client.ping(payload)),
                                "NOP-In echo differs from the NOP-Out data");
                    });
                    counts.add("victim: pings");
                }
            }
        } catch (Throwable e) {
            failure = e;
        }
    }

    /** Asks the loop to end after the operation under way. */
    public void stop() {
        stop = true;
    }

    /** The first error, or null. */
    public Throwable failure() {
        return failure;
    }

    public long slowestMillis() {
        return slowestMillis.get();
    }

    /** Reads the whole LU back and compares it with what was written (call once {@link #run} has ended). */
    public void verifyAll() throws IOException {
        for (int lba = 0; lba < blocks(); lba += MAX_BLOCKS) {
            readAndVerify(lba, MAX_BLOCKS);
        }
    }

    private void write() throws IOException {
        int lba = random.nextInt(blocks());
        int count = Math.min(1 + random.nextInt(MAX_BLOCKS), blocks() - lba);
        byte[] data = new byte[count * BLOCK];
        random.nextBytes(data);
        boolean fua = random.nextBoolean();
        timed(() -> {
            IscsiClient.Result r = client.write10(lun, lba, data, BLOCK, fua);
            check(r.good(), "WRITE(10) LBA " + lba + ", " + count + " blocks: " + r + " (expected: GOOD)");
        });
        System.arraycopy(data, 0, shadow, lba * BLOCK, data.length);
        counts.add("victim: writes");
        counts.add("victim: bytes written", data.length);
    }

    private void readAndVerify(int lba, int blocks) throws IOException {
        int count = Math.min(blocks, blocks() - lba);
        timed(() -> {
            IscsiClient.Result r = client.read10(lun, lba, count, BLOCK);
            check(r.good(), "READ(10) LBA " + lba + ", " + count + " blocks: " + r + " (expected: GOOD)");
            int from = lba * BLOCK;
            int mismatch = Arrays.mismatch(r.data(), Arrays.copyOfRange(shadow, from, from + count * BLOCK));
            check(mismatch < 0, "READ(10) LBA " + lba + ", " + count + " blocks: byte " + mismatch + " (LBA "
                    + (lba + Math.max(0, mismatch) / BLOCK) + ") differs from what was written");
        });
        counts.add("victim: reads verified");
        counts.add("victim: bytes verified", (long) count * BLOCK);
    }

    private int blocks() {
        return shadow.length / BLOCK;
    }

    private interface Io {
        void run() throws IOException;
    }

    private void timed(Io operation) throws IOException {
        long start = System.nanoTime();
        operation.run();
        slowestMillis.accumulateAndGet(Duration.ofNanos(System.nanoTime() - start).toMillis(), Math::max);
    }

    private static void check(boolean ok, String message) throws IOException {
        if (!ok) {
            throw new IOException(message);
        }
    }
}
