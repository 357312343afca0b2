package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.session.IscsiConnection;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The fuzz suite's oracles fail when they should: a buffer never released (tracking allocator and Netty's
 * paranoid leak detector), and a WARN logged by the connection handler; and the harness ({@link Fuzz}) reports
 * a failed try so that it can be reproduced.
 */
class FuzzOraclesTest {
    private static final long DEADLINE_MILLIS = 20_000;

    @Test
    void trackingAllocatorFailsOnAnUnreleasedBuffer() {
        TrackingAllocator alloc = new TrackingAllocator();
        alloc.buffer(8).writeLong(42).release();
        ByteBuf kept = alloc.directBuffer(4).writeInt(7);
        AssertionError e = assertThrows(AssertionError.class, alloc::assertAllReleased);
        assertTrue(e.getMessage().startsWith("unreleased buffers: 1 of 2"), e.getMessage());
        assertEquals(0, kept.refCnt(), "freed once reported");
        alloc.assertAllReleased(); // and forgotten
    }

    @Test
    void leakDetectorReportsABufferCollectedUnreleased() {
        LeakCheck.assertParanoid();
        LeakCheck.reset();
        leakOneBuffer();
        long deadline = System.currentTimeMillis() + DEADLINE_MILLIS;
        String reported = "";
        while (!reported.contains("leakOneBuffer") && System.currentTimeMillis() < deadline) {
            try {
                LeakCheck.assertNoLeaks();
            } catch (AssertionError e) {
                reported = e.getMessage();
            }
        }
        String last = reported;
        assertTrue(last.contains("leakOneBuffer"), () -> "leak reported within " + DEADLINE_MILLIS + " ms: '"
                + last + "' (expected: with an access record naming leakOneBuffer)");
    }

    private static void leakOneBuffer() {
        ByteBuf leaked = Unpooled.directBuffer(16);
        leaked.writeLong(System.nanoTime()); // an access record naming this method
    }

    @Test
    void logWatchFailsOnAWarningAndCountsInfo() {
        LogWatch watch = LogWatch.install();
        try {
            LoggerFactory.getLogger(IscsiConnection.class).info("fuzz oracle test: an input was rejected");
            watch.assertQuiet();
            assertEquals(1, watch.suppressed());
            LoggerFactory.getLogger(IscsiConnection.class).warn("fuzz oracle test: closing connection",
                    new IllegalStateException("deliberate"));
            AssertionError e = assertThrows(AssertionError.class, watch::assertQuiet);
            assertTrue(e.getMessage().contains("fuzz oracle test: closing connection"), e.getMessage());
            watch.assertQuiet(); // reported once
        } finally {
            watch.uninstall();
        }
    }

    @Test
    void harnessNamesSeedTryAndInputOfAFailedTry() {
        List<Integer> seen = new ArrayList<>();
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.check(g -> g.between(1000, 9999), v -> {
            seen.add(v);
            throw new IllegalStateException("deliberate failure on " + v);
        }));
        assertEquals(1, seen.size(), "tries after the first failure");
        String message = e.getMessage();
        assertTrue(message.startsWith("FuzzOraclesTest.harnessNamesSeedTryAndInputOfAFailedTry failed at try "),
                message);
        assertTrue(message.contains("-Djtarget.fuzz.seed=" + Fuzz.SEED + " -Djtarget.fuzz.try="), message);
        assertTrue(message.contains("\ninput: " + seen.get(0)), message);
        assertNotNull(e.getCause());
        assertEquals("deliberate failure on " + seen.get(0), e.getCause().getMessage());
        // the same property, seed and try generate the same input
        assertThrows(AssertionError.class, () -> Fuzz.check(g -> g.between(1000, 9999), v -> {
            seen.add(v);
            throw new IllegalStateException("deliberate failure on " + v);
        }));
        assertEquals(seen.get(0), seen.get(1), "input of the same try, generated again");
    }
}
