package org.jtarget.iscsi.internal.fuzz;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Netty's leak detector, made to remember what it reports so a test can fail on it instead of a line in the
 * log. Installed for the whole test JVM by {@code -Dio.netty.customResourceLeakDetector} (surefire
 * configuration of this module), together with {@code -Dio.netty.leakDetection.level=paranoid}: every buffer
 * is tracked, and one that is garbage collected without its last release is reported here.
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {
    /** Leak reports (resource type and access records) since the start of the JVM or the last {@link #drain}. */
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        INSTANCES.incrementAndGet();
    }

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** How many detectors Netty made of this class (0: the system property is missing). */
    static int instances() {
        return INSTANCES.get();
    }

    /** The leaks reported so far, forgetting them. */
    static List<String> drain() {
        List<String> copy = List.copyOf(LEAKS);
        LEAKS.removeAll(copy);
        return copy;
    }

    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add(resourceType + " leaked:" + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add(resourceType + " leaked (no records)");
        super.reportUntracedLeak(resourceType);
    }
}
