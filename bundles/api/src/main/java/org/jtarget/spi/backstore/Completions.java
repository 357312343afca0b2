package org.jtarget.spi.backstore;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * For backstores that do their work in the caller's thread (local, fast storage): the work's result as a
 * completed stage, or its exception as a failed one, so that nothing is thrown out of an SPI method.
 *
 * @since 2.0
 */
public final class Completions {
    private Completions() {
    }

    /** Work that may throw (a {@link BackstoreException}, an I/O failure). */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws Exception;
    }

    /** Runs {@code work} now; a completed stage with its result, or a stage failed with what it threw. */
    public static <T> CompletionStage<T> now(Work<T> work) {
        try {
            return CompletableFuture.completedFuture(work.run());
        } catch (Exception | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
