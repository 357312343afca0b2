package org.jtarget.iscsi.internal.fuzz;

import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;

/**
 * Fails a test on a buffer leak reported by Netty's paranoid leak detector ({@link RecordingLeakDetector}),
 * which tracks pooled and direct buffers (not unpooled heap ones, which the garbage collector frees anyway).
 * Leaks are found when the garbage collector has cleared a buffer that was never released: {@link #assertNoLeaks}
 * collects garbage, waits (with a deadline) until the collector has queued its cleared references, and lets
 * the detector look at them.
 */
final class LeakCheck {
    private static final long GC_DEADLINE_MILLIS = 5_000;

    private LeakCheck() {
    }

    /** Fails unless every buffer is tracked and leaks are recorded, i.e. the surefire settings are in effect. */
    static void assertParanoid() {
        Unpooled.directBuffer(1).release(); // creates the ByteBuf leak detector if nothing has yet
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID
                || RecordingLeakDetector.instances() == 0) {
            throw new AssertionError("leak detection: " + ResourceLeakDetector.getLevel() + ", "
                    + RecordingLeakDetector.instances() + " recording detectors (expected: PARANOID with "
                    + "-Dio.netty.customResourceLeakDetector=" + RecordingLeakDetector.class.getName()
                    + ", as the module's surefire configuration sets)");
        }
    }

    /** Forgets leaks reported so far (those of earlier test classes are not this class's). */
    static List<String> reset() {
        collect();
        return RecordingLeakDetector.drain();
    }

    /** Fails when a buffer became garbage without being released since the last check. */
    static void assertNoLeaks() {
        collect();
        List<String> leaks = RecordingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError("buffer leaks: " + leaks.size() + " (expected: 0)\n" + String.join("\n", leaks));
        }
    }

    /** Two rounds of: a full GC, waiting until a sentinel weak reference is queued, a poll by the detector. */
    private static void collect() {
        for (int round = 0; round < 2; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
            long deadline = System.currentTimeMillis() + GC_DEADLINE_MILLIS;
            try {
                while (queue.remove(10) == null && System.currentTimeMillis() < deadline) {
                    System.gc();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while collecting garbage", e);
            }
            if (sentinel.get() != null) {
                throw new AssertionError("garbage collection: sentinel still reachable after "
                        + GC_DEADLINE_MILLIS + " ms (expected: collected)");
            }
            for (int i = 0; i < 4; i++) { // the detector polls its reference queue when it tracks a buffer
                Unpooled.directBuffer(1).release(); // (unpooled heap buffers are not tracked by Netty 4.1)
            }
        }
    }
}
