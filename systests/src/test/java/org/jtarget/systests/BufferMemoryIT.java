package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;
import org.junit.jupiter.api.Test;

/**
 * Initiators that queue more READ data than the target's direct memory holds (found by the network fuzzer's
 * author while probing issue 6): four sessions each send two READ(16) of 64 MiB, before reading any answer,
 * against a target limited to 192 MiB of direct memory. Every command must still be answered, GOOD or TASK SET
 * FULL (SAM-5 5.3.1), the sessions must go on, and the target must stop cleanly. Before the fix the buffer
 * allocation's OutOfMemoryError escaped the command pipeline: those commands were never answered, stayed in the
 * task set, and SIGTERM waited 30 s for the LU to drain.
 *
 * <p>One session alone no longer gets there: what a connection's unread Data-In may hold is bounded
 * (max_data_in_bytes and the write buffer's high water mark; one command runs when nothing else does), so its
 * second READ waits. Four sessions with one 64 MiB READ each still exceed 192 MiB; the test asserts that the
 * exhaustion happened (at least one TASK SET FULL) so that it tests what it says.
 */
class BufferMemoryIT {
    private static final int SESSIONS = 4;
    private static final int READS = 2;
    private static final int BLOCKS = 131072; // 64 MiB of 512-byte blocks: MAXIMUM TRANSFER LENGTH (VPD B0h)

    @Test
    void readsBeyondTheDirectMemoryAreAnsweredTaskSetFullAndTheTargetStopsCleanly() throws Exception {
        JtargetInstance jtarget = JtargetInstance.create("buffermemory")
                .environment("JTARGET_JAVA_OPTS", "-XX:MaxDirectMemorySize=192m");
        try {
            jtarget.start();
            List<IscsiClient> clients = new ArrayList<>();
            try {
                for (int n = 0; n < SESSIONS; n++) {
                    IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), Duration.ofSeconds(60));
                    clients.add(c);
                    assertEquals(0, c.login("iqn.2026-12.org.example:greedy", 0x023d00000b00L + n, DEFAULT_IQN)
                            .loginStatus());
                    assertTrue(c.testUnitReady(0).good());
                }
                for (IscsiClient c : clients) {
                    for (int i = 0; i < READS; i++) {
                        ByteBuffer b = IscsiClient.bhs(0x01, 0xc0, 0); // F, R, SIMPLE
                        b.putInt(16, 0x1000 + i);
                        b.putInt(20, BLOCKS * 512);
                        b.putInt(24, c.nextCmdSn());
                        b.putInt(28, c.expStatSn());
                        b.put(32, (byte) 0x88); // READ(16), LBA 0
                        b.putInt(32 + 10, BLOCKS);
                        c.send(b, new byte[0]);
                    }
                }
                Map<String, Integer> statusByItt = new TreeMap<>();
                for (int n = 0; n < SESSIONS; n++) {
                    IscsiClient c = clients.get(n);
                    for (int answered = 0; answered < READS; ) {
                        Pdu pdu = c.receive(); // times out (the test fails) when a command is never answered
                        if (pdu.opcode() == 0x21 || pdu.opcode() == 0x25 && (pdu.flags() & 0x01) != 0) {
                            statusByItt.put(n + ":" + pdu.itt(), pdu.status());
                            answered++;
                        }
                    }
                }
                assertTrue(statusByItt.values().stream().allMatch(s -> s == 0x00 || s == 0x28),
                        () -> "statuses by session:ITT (expected: GOOD 0x00 or TASK SET FULL 0x28): " + statusByItt);
                assertTrue(statusByItt.containsValue(0x28), () -> "no TASK SET FULL: the direct memory was not "
                        + "exhausted, the test did not reach its case: " + statusByItt);
                for (IscsiClient c : clients) {
                    IscsiClient.Result after = c.read10(0, 0, 8, 512);
                    assertTrue(after.good(), () -> "READ after the flood: " + after);
                }
            } finally {
                for (IscsiClient c : clients) {
                    c.close();
                }
            }
            assertTrue(jtarget.stop(), () -> "SIGTERM did not stop the target within "
                    + JtargetInstance.STOP_TIMEOUT.toSeconds() + " s\n" + jtarget.consoleTail());
        } finally {
            jtarget.stop();
        }
    }
}
