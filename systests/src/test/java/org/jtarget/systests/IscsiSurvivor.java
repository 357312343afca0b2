package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jtarget.systests.wire.IscsiClient;

/**
 * One iSCSI session kept busy in the background while a test changes other things (bundles added to or
 * removed from deploy/): round after round it writes 8 blocks of a pattern of their own and reads them
 * back, always in the same session. A command answered UNIT ATTENTION is sent again, as every initiator
 * does (SAM-5 5.14: it was not executed; e.g. REPORTED LUNS DATA HAS CHANGED after a lun:add on the same
 * target), and counted. Any other failure (an error status, wrong data, the session closed) is kept
 * and fails {@link #awaitRounds} and {@link #close}. {@link #awaitRounds} shows the session made progress
 * at a point of the test: before, during and after a change.
 */
final class IscsiSurvivor implements AutoCloseable {
    static final String INITIATOR = "iqn.2026-11.org.jtarget:systests-survivor";
    private static final int BLOCK = 512;
    private static final int BLOCKS = 8;
    /** The blocks it cycles through, from {@code firstLba}: 2 MiB. */
    private static final int SLOTS = 512;

    private final IscsiClient client;
    private final int lun;
    private final int firstLba;
    private static final int UNIT_ATTENTION = 6;
    private final AtomicLong rounds = new AtomicLong();
    private final AtomicLong unitAttentions = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stopping;

    private IscsiSurvivor(IscsiClient client, int lun, int firstLba) {
        this.client = client;
        this.lun = lun;
        this.firstLba = firstLba;
        this.thread = new Thread(this::run, "iscsi-survivor");
        this.thread.setDaemon(true);
    }

    /** Logs in to LUN {@code lun} of {@code iqn} at 127.0.0.1:{@code port} and starts writing and reading from {@code firstLba}. */
    static IscsiSurvivor start(int port, String iqn, int lun, int firstLba) throws IOException {
        IscsiClient c = IscsiClient.connect("127.0.0.1", port, Duration.ofSeconds(60));
        assertEquals(0, c.login(INITIATOR, 0x023d0000cafeL, iqn).loginStatus(), "survivor login to " + iqn);
        IscsiClient.Result ready = c.testUnitReady(lun);
        if (!ready.good()) {
            c.close();
            fail("survivor: TEST UNIT READY on " + iqn + " LUN " + lun + ": " + ready);
        }
        IscsiSurvivor s = new IscsiSurvivor(c, lun, firstLba);
        s.thread.start();
        return s;
    }

    private void run() {
        Random random = new Random(42);
        for (long i = 0; !stopping; i++) {
            byte[] data = new byte[BLOCK * BLOCKS];
            random.nextBytes(data);
            int lba = firstLba + (int) (i % SLOTS) * BLOCKS;
            try {
                IscsiClient.Result w = client.write10(lun, lba, data, BLOCK, false);
                for (int retry = 0; retry < 4 && w.senseKey() == UNIT_ATTENTION; retry++) {
                    unitAttentions.incrementAndGet();
                    w = client.write10(lun, lba, data, BLOCK, false);
                }
                if (!w.good()) {
                    failure.compareAndSet(null, "round " + i + ": WRITE(10) at LBA " + lba + ": " + w);
                    return;
                }
                IscsiClient.Result r = client.read10(lun, lba, BLOCKS, BLOCK);
                for (int retry = 0; retry < 4 && r.senseKey() == UNIT_ATTENTION; retry++) {
                    unitAttentions.incrementAndGet();
                    r = client.read10(lun, lba, BLOCKS, BLOCK);
                }
                if (!r.good() || !Arrays.equals(data, r.data())) {
                    failure.compareAndSet(null, "round " + i + ": READ(10) at LBA " + lba + " "
                            + (r.good() ? "returned other data than written" : r.toString()));
                    return;
                }
            } catch (IOException e) {
                if (!stopping) {
                    failure.compareAndSet(null, "round " + i + ": the session failed: " + e);
                }
                return;
            }
            rounds.incrementAndGet();
            try {
                Thread.sleep(2); // pacing, so that the session leaves the shared CPUs to the rest of the test
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Rounds completed so far (a write and the read that checked it). */
    long rounds() {
        return rounds.get();
    }

    /** Commands answered UNIT ATTENTION and sent again. */
    long unitAttentions() {
        return unitAttentions.get();
    }

    /** Waits until {@code more} further rounds completed; fails at once on a failure, or after {@code timeout}. */
    void awaitRounds(int more, Duration timeout, String when) throws InterruptedException {
        long target = rounds.get() + more;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (rounds.get() < target) {
            check(when);
            if (System.nanoTime() > deadline) {
                fail("survivor session " + when + ": only " + rounds.get() + " of " + target + " rounds after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
        check(when);
    }

    private void check(String when) {
        String f = failure.get();
        if (f != null) {
            fail("survivor session on LUN " + lun + " broke " + when + ": " + f);
        }
    }

    /** Stops after the current round, fails if any round failed, and logs out. */
    @Override
    public void close() throws Exception {
        stopping = true;
        thread.join(Duration.ofSeconds(60).toMillis());
        try {
            check("before logout");
            client.logout();
        } finally {
            client.close();
        }
    }
}
