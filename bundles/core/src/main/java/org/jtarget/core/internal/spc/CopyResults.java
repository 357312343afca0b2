package org.jtarget.core.internal.spc;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one I_T nexus may ask RECEIVE COPY RESULTS about (SPC-4 6.18): the outcome of its EXTENDED COPY
 * commands whose LIST ID USAGE asked the copy manager to hold it (00b), by list identifier.
 */
public final class CopyResults {
    /** Held results per nexus; the oldest are dropped beyond this. */
    static final int MAX_HELD = 64;

    /**
     * One EXTENDED COPY's outcome.
     *
     * @param status            COPY MANAGER STATUS: 01h completed good, 02h completed with an error
     * @param segmentsProcessed segments completed (SEGMENTS PROCESSED)
     * @param bytes             bytes copied (TRANSFER COUNT, units of bytes)
     * @param sense             the sense data of the failure (FAILED SEGMENT DETAILS), or null
     */
    public record Result(int status, int segmentsProcessed, long bytes, byte[] sense) {
    }

    private final Map<Integer, Result> held = new ConcurrentHashMap<>();

    public void hold(int listId, Result r) {
        if (held.size() >= MAX_HELD && !held.containsKey(listId)) {
            held.keySet().stream().findFirst().ifPresent(held::remove);
        }
        held.put(listId, r);
    }

    public Result get(int listId) {
        return held.get(listId);
    }
}
