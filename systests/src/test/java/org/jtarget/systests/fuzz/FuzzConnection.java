package org.jtarget.systests.fuzz;

import java.io.IOException;
import java.time.Duration;
import java.util.SplittableRandom;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;

/**
 * One fuzz connection: the raw client, its own random source, the mutator and the shared counters. Every PDU
 * sent is counted as {@code "sent: KIND"}, every PDU the target answers as {@code "answer: ..."} (by opcode, with
 * the Login Response status, the Reject reason, the SCSI status or the TMF/Logout response). Subclasses keep the
 * state they need (R2Ts, open commands) in {@link #onAnswer}.
 */
abstract class FuzzConnection {
    /** How long the end of a connection waits for more answers once nothing came for this long. */
    static final Duration QUIET = Duration.ofMillis(250);
    /** At most this many answers are read at the end of a connection (a large READ gives many Data-In). */
    private static final int MAX_FINAL_ANSWERS = 2000;

    final IscsiClient client;
    final SplittableRandom random;
    final PduMutator mutator;
    final FuzzCounts counts;

    FuzzConnection(IscsiClient client, SplittableRandom random, FuzzCounts counts) {
        this.client = client;
        this.random = random;
        this.mutator = new PduMutator(random, counts);
        this.counts = counts;
    }

    /** Runs the scenario; an IOException means the connection ended (the worker tells how). */
    abstract void run() throws IOException;

    /** Sends one PDU's bytes as they are and counts them under {@code kind}. */
    void send(String kind, byte[] bytes) throws IOException {
        counts.add("sent: " + kind);
        client.sendRaw(bytes);
    }

    /** Sends {@code bytes}, byte-mutated one time in {@code oneIn} (then counted as {@code "KIND mutated"}). */
    void sendMaybeMutated(String kind, byte[] bytes, int oneIn) throws IOException {
        if (random.nextInt(oneIn) == 0) {
            send(kind + " mutated", mutator.mutate(bytes));
        } else {
            send(kind, bytes);
        }
    }

    /** Reads the answers already there (each wait 1 ms), without blocking for more. */
    void drainNow() throws IOException {
        Pdu pdu;
        while ((pdu = client.poll(Duration.ofMillis(1))) != null) {
            answer(pdu);
        }
    }

    /** The next answer within {@code wait}, counted; null when none came. */
    Pdu await(Duration wait) throws IOException {
        Pdu pdu = client.poll(wait);
        if (pdu == null) {
            counts.add("answer: none within " + wait.toMillis() + " ms");
        } else {
            answer(pdu);
        }
        return pdu;
    }

    /** Reads answers until none comes for {@link #QUIET}, or the target closes (IOException). */
    void drainEnd() throws IOException {
        for (int i = 0; i < MAX_FINAL_ANSWERS; i++) {
            Pdu pdu = client.poll(QUIET);
            if (pdu == null) {
                return;
            }
            answer(pdu);
        }
    }

    private void answer(Pdu pdu) {
        counts.add("answer: " + describe(pdu));
        onAnswer(pdu);
    }

    /** Hook for the scenario's state (R2Ts to answer, commands that ended). */
    void onAnswer(Pdu pdu) {
    }

    /** The counter name of an answer: its kind and the one field that says how it went. */
    static String describe(Pdu pdu) {
        byte[] b = pdu.bhs();
        return switch (pdu.opcode()) {
            case 0x20 -> "nop-in";
            case 0x21 -> "scsi-response " + ((b[2] & 0xff) != 0 ? "response 0x" + hex(b[2])
                    : "status 0x" + hex(b[3]) + sense(pdu.data()));
            case 0x22 -> "tmf-response 0x" + hex(b[2]);
            case 0x23 -> String.format("login-response class %d (0x%04x)", (b[36] & 0xff), pdu.loginStatus());
            case 0x24 -> "text-response" + ((b[1] & 0x40) != 0 ? " continued" : "");
            case 0x25 -> "data-in" + ((b[1] & 0x01) != 0 ? " with status 0x" + hex(b[3]) : "");
            case 0x26 -> "logout-response 0x" + hex(b[2]);
            case 0x31 -> "r2t";
            case 0x32 -> "async-message event " + (b[36] & 0xff);
            case 0x3f -> "reject 0x" + hex(b[2]);
            default -> "UNEXPECTED opcode 0x" + Integer.toHexString(pdu.opcode()); // never from a target (§11.2.1.2)
        };
    }

    /** Sense key and ASC/ASCQ of a SCSI Response's sense data (§11.4.7.2; SPC-6 §4.4 fixed or descriptor). */
    private static String sense(byte[] data) {
        if (data.length < 2 + 4) {
            return "";
        }
        int offset = 2;
        boolean descriptor = (data[offset] & 0x7f) >= 0x72;
        if (descriptor) {
            return String.format(" sense %x/%02x%02x", data[offset + 1] & 0x0f, data[offset + 2], data[offset + 3]);
        }
        return data.length < offset + 14 ? "" : String.format(" sense %x/%02x%02x", data[offset + 2] & 0x0f,
                data[offset + 12], data[offset + 13]);
    }

    private static String hex(byte b) {
        return String.format("%02x", b & 0xff);
    }
}
