package org.jtarget.core.internal.scsi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * An asynchronous shared/exclusive gate: writes pass shared, COMPARE AND WRITE passes exclusive, so its
 * read-compare-write is atomic against every other write to the LU (SBC-3 5.2). Never blocks a
 * thread; waiters are granted in arrival order so an exclusive request is not starved.
 */
public final class WriteGate {
    private static final CompletableFuture<Void> OPEN = CompletableFuture.completedFuture(null);

    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int shared;
    private boolean exclusive;

    private record Waiter(boolean exclusive, CompletableFuture<Void> granted) {
    }

    /** Completes when the gate is held; pair with {@link #release(boolean)} with the same mode. */
    public CompletionStage<Void> acquire(boolean exclusiveMode) {
        synchronized (this) {
            if (waiters.isEmpty() && !exclusive && (!exclusiveMode || shared == 0)) {
                if (exclusiveMode) {
                    exclusive = true;
                } else {
                    shared++;
                }
                return OPEN;
            }
            Waiter w = new Waiter(exclusiveMode, new CompletableFuture<>());
            waiters.add(w);
            return w.granted;
        }
    }

    public void release(boolean exclusiveMode) {
        List<CompletableFuture<Void>> grant = new ArrayList<>(1);
        synchronized (this) {
            if (exclusiveMode) {
                exclusive = false;
            } else {
                shared--;
            }
            while (!waiters.isEmpty() && !exclusive) {
                Waiter w = waiters.peekFirst();
                if (w.exclusive) {
                    if (shared != 0) {
                        break;
                    }
                    exclusive = true;
                } else {
                    shared++;
                }
                waiters.pollFirst();
                grant.add(w.granted);
            }
        }
        for (CompletableFuture<Void> f : grant) {
            f.complete(null);
        }
    }
}
