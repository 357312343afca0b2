package org.jtarget.iscsi.internal.login;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LogLimiterTest {
    private long now = 42;
    private final List<String> lines = new ArrayList<>();
    private final LogLimiter limiter = new LogLimiter(() -> now, 20, lines::add);

    @Test
    void aFloodIsCutToTheBudgetAndTheRestCounted() {
        for (int i = 0; i < 1000; i++) {
            limiter.log("AUTHENTICATION_FAILURE", "bad login " + i);
        }
        assertEquals(20, lines.size());
        assertEquals("bad login 19", lines.get(19));
        now += TimeUnit.MINUTES.toNanos(1);
        limiter.log("AUTHENTICATION_FAILURE", "bad login 1000");
        assertEquals("980 similar messages suppressed (AUTHENTICATION_FAILURE)", lines.get(20));
        assertEquals("bad login 1000", lines.get(21));
    }

    @Test
    void tokensComeBackEvenlyAndCategoriesAreSeparate() {
        for (int i = 0; i < 25; i++) {
            limiter.log("a", "a" + i);
        }
        limiter.log("b", "b0");
        assertEquals(21, lines.size(), "b has its own budget");
        now += TimeUnit.SECONDS.toNanos(3); // 20 a minute: one every 3 s
        limiter.log("a", "a25");
        assertEquals(List.of("5 similar messages suppressed (a)", "a25"), lines.subList(21, 23));
        limiter.log("a", "a26");
        assertEquals(23, lines.size());
    }
}
