package org.jtarget.core.internal.scsi;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Consumer;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.scsi.TaskAttribute;

/**
 * Task attribute ordering for one logical unit (SAM-5 8.6, one task set shared by all I_T nexuses):
 * SIMPLE tasks run concurrently but not past an older ORDERED task; an ORDERED task runs once every
 * older task ended; HEAD OF QUEUE runs at once and holds back later ORDERED tasks until it ends
 * (LIO's target_handle_task_attr / target_restart_delayed_cmds).
 */
public final class TaskSet {
    private final LinkedHashSet<Command> queued = new LinkedHashSet<>(); // SIMPLE and ORDERED, arrival order
    private final LinkedHashSet<Command> started = new LinkedHashSet<>(); // running subset, any attribute
    private int headOfQueue;
    private int ordered;
    private int waiting;

    /**
     * Adds a task; {@code start} runs it (on this thread, outside any lock) now or when allowed.
     * The same {@code start} is used for tasks released later by {@link #leave}.
     */
    public void enter(Command c, Consumer<Command> start) {
        boolean now;
        synchronized (this) {
            TaskAttribute a = c.attribute();
            if (a == TaskAttribute.HEAD_OF_QUEUE) {
                headOfQueue++;
                now = true;
            } else if (a == TaskAttribute.ORDERED) {
                now = queued.isEmpty() && headOfQueue == 0;
                ordered++;
                queued.add(c);
            } else {
                now = ordered == 0;
                queued.add(c);
            }
            if (now) {
                started.add(c);
            } else {
                waiting++;
            }
        }
        if (now) {
            start.accept(c);
        }
    }

    /** Removes an ended task (run or aborted while waiting) and starts what it held back. */
    public void leave(Command c, Consumer<Command> start) {
        List<Command> ready = null;
        synchronized (this) {
            boolean wasStarted = started.remove(c);
            TaskAttribute a = c.attribute();
            if (a == TaskAttribute.HEAD_OF_QUEUE) {
                if (wasStarted) {
                    headOfQueue--;
                }
            } else if (queued.remove(c)) {
                if (a == TaskAttribute.ORDERED) {
                    ordered--;
                }
                if (!wasStarted) {
                    waiting--;
                }
            }
            if (waiting > 0) {
                ready = releasable();
            }
        }
        if (ready != null) {
            for (Command r : ready) {
                start.accept(r);
            }
        }
    }

    /** Whether {@code c} is queued and not started yet (abortable without running). */
    public synchronized boolean isWaiting(Command c) {
        return queued.contains(c) && !started.contains(c);
    }

    private List<Command> releasable() {
        List<Command> ready = new ArrayList<>(2);
        boolean first = true;
        for (Iterator<Command> it = queued.iterator(); it.hasNext(); first = false) {
            Command c = it.next();
            boolean isOrdered = c.attribute() == TaskAttribute.ORDERED;
            if (!started.contains(c)) {
                if (isOrdered ? first && headOfQueue == 0 : true) {
                    started.add(c);
                    waiting--;
                    ready.add(c);
                } else {
                    break;
                }
            }
            if (isOrdered) {
                break; // nothing younger than an ORDERED task may start before it ends
            }
        }
        return ready;
    }

    /** Tasks in the set now (for tests and diagnostics). */
    public synchronized int size() {
        return queued.size() + headOfQueue;
    }
}
