package org.jtarget.iscsi.internal.session;

import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.DataPdu;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.spi.fabric.TpgLimit;

/**
 * What one connection may hold on behalf of its peer (event loop only):
 * <ul>
 * <li>{@link TpgLimit#MAX_UNSOLICITED_BYTES}: write data the initiator sends without being asked (immediate data
 * and unsolicited Data-Out, RFC 7143 §13.10-§13.14), reserved per command from its arrival (queued out of CmdSN
 * order or running) to its end, at the most it may bring: min(EDTL, FirstBurstLength); and the data of any
 * other PDU queued out of CmdSN order;</li>
 * <li>{@link TpgLimit#MAX_DATA_IN_BYTES}: read data of the commands handed to the core and not yet answered.
 * A command that would exceed it, or that arrives while the socket does not take more (Netty's write buffer
 * above its high water mark: the peer does not read), waits here, in order with those behind it, until answers
 * drain. The read data in the JVM is then at most this limit plus the write buffer (or one command's data
 * when that is larger).</li>
 * </ul>
 * One command is always let through when nothing is held, so a limit below one command's size slows but never
 * stops a session.
 */
final class ConnectionBudget {
    private final long maxUnsolicited;
    private final long maxDataIn;
    private long unsolicited;
    private long dataIn;
    private final IntObjectMap<long[]> byItt = new IntObjectHashMap<>();
    private final ArrayDeque<IscsiTask> deferred = new ArrayDeque<>();
    private boolean submitting;
    /** Unsolicited Data-Out of commands queued out of CmdSN order, by ITT, replayed when the command runs. */
    private final Map<Integer, List<DataOut>> earlyData = new HashMap<>();

    ConnectionBudget(Map<String, String> tpgParameters) {
        this.maxUnsolicited = TpgLimit.MAX_UNSOLICITED_BYTES.valueIn(tpgParameters);
        this.maxDataIn = TpgLimit.MAX_DATA_IN_BYTES.valueIn(tpgParameters);
    }

    /** The most unsolicited data {@code command} may bring (§13.10, §13.11, §13.14), immediate data included. */
    static int unsolicitedOf(ScsiCommand command, SessionParameters p) {
        int immediate = command.data().readableBytes();
        if (!command.write() || command.finalFlag() || p.initialR2T()) {
            return immediate;
        }
        return Math.max(immediate, Math.min(unsigned(command.expectedDataLength()), p.firstBurstLength()));
    }

    /**
     * What a PDU queued out of CmdSN order holds: a command's {@link #unsolicitedOf}, any other PDU's data
     * segment (a NOP-Out's ping data, a Text Request's keys).
     */
    static int queuedOf(IscsiPdu pdu, SessionParameters p) {
        if (pdu instanceof ScsiCommand c) {
            return unsolicitedOf(c, p);
        }
        return pdu instanceof DataPdu d ? d.data().readableBytes() : 0;
    }

    /** The read data {@code command} may bring back. */
    static int dataInOf(ScsiCommand command) {
        int length = !command.read() ? 0 : command.write() ? command.bidiReadLength() : command.expectedDataLength();
        return unsigned(length);
    }

    /** A length field (unsigned 32 bits, §11.3.4): 2 GiB or more counts as 2 GiB - 1. */
    private static int unsigned(int length) {
        return length < 0 ? Integer.MAX_VALUE : length;
    }

    /** Reserves unsolicited bytes; false (nothing reserved) when that would exceed the limit. */
    boolean reserve(int bytes) {
        if (bytes > 0 && unsolicited > 0 && unsolicited + bytes > maxUnsolicited) {
            return false;
        }
        unsolicited += bytes;
        return true;
    }

    void release(int bytes) {
        unsolicited -= bytes;
    }

    /** A task now holds {@code unsolicitedBytes} (already {@link #reserve reserved}) and may read {@code readBytes}. */
    void started(int itt, int unsolicitedBytes, int readBytes) {
        byItt.put(itt, new long[] {unsolicitedBytes, readBytes, 0});
    }

    /**
     * Whether {@code task} must wait before it goes to the core; if so it is queued. Call {@link #submitDeferred}
     * when answers drain or the socket becomes writable.
     */
    boolean defer(IscsiTask task, boolean writable) {
        if (!deferred.isEmpty() || !mayRun(task, writable)) {
            deferred.add(task);
            return true;
        }
        submitted(task);
        return false;
    }

    /**
     * Hands the deferred tasks that may go to the core now to {@code submit}, in order ({@code force}: all of
     * them, e.g. before a task management function, which must find every task it may name, SAM-5 7.1).
     */
    void submitDeferred(Channel channel, boolean force, Consumer<IscsiTask> submit) {
        if (submitting) {
            return; // a completion inside submit(): the loop below goes on
        }
        submitting = true;
        try {
            IscsiTask next;
            while (channel.isOpen() && (next = deferred.peek()) != null
                    && (force || mayRun(next, channel.isWritable()))) {
                deferred.poll();
                submitted(next);
                submit.accept(next);
            }
        } finally {
            submitting = false;
        }
    }

    private boolean mayRun(IscsiTask task, boolean writable) {
        long[] held = byItt.get(task.itt());
        long read = held == null ? 0 : held[1];
        return read == 0 || (writable && (dataIn == 0 || dataIn + read <= maxDataIn));
    }

    private void submitted(IscsiTask task) {
        long[] held = byItt.get(task.itt());
        if (held != null) {
            held[2] = 1;
            dataIn += held[1];
        }
    }

    /** The task ended (answered, aborted or failed): what it held is free. */
    void ended(IscsiTask task) {
        long[] held = byItt.remove(task.itt());
        if (held != null) {
            unsolicited -= held[0];
            if (held[2] != 0) {
                dataIn -= held[1];
            }
        }
        deferred.remove(task);
    }

    /**
     * Keeps (retains) an unsolicited Data-Out of {@code queued}, a command waiting for its CmdSN turn; false when
     * it would bring more than the command may ({@link #unsolicitedOf}, what its reservation covers).
     */
    boolean holdEarly(DataOut pdu, ScsiCommand queued, SessionParameters p) {
        List<DataOut> held = earlyData.computeIfAbsent(pdu.itt(), k -> new ArrayList<>(2));
        long bytes = queued.data().readableBytes() + pdu.data().readableBytes();
        for (DataOut d : held) {
            bytes += d.data().readableBytes();
        }
        if (bytes > unsolicitedOf(queued, p)) {
            return false;
        }
        held.add(ReferenceCountUtil.retain(pdu));
        return true;
    }

    /** The Data-Out held for {@code itt} (the caller releases each), possibly none. */
    List<DataOut> takeEarly(int itt) {
        List<DataOut> held = earlyData.isEmpty() ? null : earlyData.remove(itt);
        return held == null ? List.of() : held;
    }

    int deferredCount() {
        return deferred.size();
    }

    long unsolicitedHeld() {
        return unsolicited;
    }

    long dataInHeld() {
        return dataIn;
    }

    /** The connection is gone: forget everything, release the held Data-Out. */
    void clear() {
        earlyData.values().forEach(held -> held.forEach(DataOut::release));
        earlyData.clear();
        byItt.clear();
        deferred.clear();
        unsolicited = 0;
        dataIn = 0;
    }
}
