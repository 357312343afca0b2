package org.jtarget.iscsi.internal.login;

import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every login of one fabric instance shares against hostile peers: the {@link LoginThrottle} and the
 * {@link LogLimiter} that login failures (and protocol errors of logged-in peers) are written through.
 */
public record LoginGuard(LoginThrottle throttle, LogLimiter log) {
    /** Login failure lines per category and minute. */
    public static final int LINES_PER_MINUTE = 20;

    /** A guard on {@code clock} writing to {@code sink}; tests pass their own clock and sink. */
    public static LoginGuard of(LongSupplier clock, Consumer<String> sink) {
        return new LoginGuard(new LoginThrottle(clock), new LogLimiter(clock, LINES_PER_MINUTE, sink));
    }

    /** The production guard: the system clock, INFO lines of this package's logger. */
    public static LoginGuard standard() {
        Logger log = LoggerFactory.getLogger(LoginNegotiator.class);
        return of(System::nanoTime, log::info);
    }
}
