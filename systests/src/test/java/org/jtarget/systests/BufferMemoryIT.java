package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;
import org.junit.jupiter.api.Test;

/**
 * An initiator that queues more READ data than the target's direct memory holds (found by the network fuzzer's
 * author while probing issue 6): eight READ(16) of 64 MiB each, sent before reading any answer, against a target
 * limited to 192 MiB of direct memory. Every command must still be answered, GOOD or TASK SET FULL (SAM-5 5.3.1),
 * the session must go on, and the target must stop cleanly. Before the fix the buffer allocation's
 * OutOfMemoryError escaped the command pipeline: those commands were never answered, stayed in the task set, and
 * SIGTERM waited 30 s for the LU to drain.
 *
 * <p>Still open (see the fabric's notes): one connection may hold all of the direct memory with unsent Data-In,
 * so other sessions get TASK SET FULL meanwhile; this test asserts that the exhaustion happened (at least one
 * TASK SET FULL) so that it tests what it says.
 */
class BufferMemoryIT {
    private static final int READS = 8;
    private static final int BLOCKS = 131072; // 64 MiB of 512-byte blocks: MAXIMUM TRANSFER LENGTH (VPD B0h)

    @Test
    void readsBeyondTheDirectMemoryAreAnsweredTaskSetFullAndTheTargetStopsCleanly() throws Exception {
        JtargetInstance jtarget = JtargetInstance.create("buffermemory")
                .environment("JTARGET_JAVA_OPTS", "-XX:MaxDirectMemorySize=192m");
        try {
            jtarget.start();
            try (IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), Duration.ofSeconds(60))) {
                assertEquals(0, c.login("iqn.2026-12.org.example:greedy", 0x023d00000b0fL, DEFAULT_IQN).loginStatus());
                assertTrue(c.testUnitReady(0).good());
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
                Map<Integer, Integer> statusByItt = new TreeMap<>();
                while (statusByItt.size() < READS) {
                    Pdu pdu = c.receive(); // times out (the test fails) when a command is never answered
                    if (pdu.opcode() == 0x21 || pdu.opcode() == 0x25 && (pdu.flags() & 0x01) != 0) {
                        statusByItt.put(pdu.itt(), pdu.status());
                    }
                }
                assertTrue(statusByItt.values().stream().allMatch(s -> s == 0x00 || s == 0x28),
                        () -> "statuses by ITT (expected: GOOD 0x00 or TASK SET FULL 0x28): " + statusByItt);
                assertTrue(statusByItt.containsValue(0x28), () -> "no TASK SET FULL: the direct memory was not "
                        + "exhausted, the test did not reach its case: " + statusByItt);
                IscsiClient.Result after = c.read10(0, 0, 8, 512);
                assertTrue(after.good(), () -> "READ after the flood: " + after);
            }
            assertTrue(jtarget.stop(), () -> "SIGTERM did not stop the target within "
                    + JtargetInstance.STOP_TIMEOUT.toSeconds() + " s\n" + jtarget.consoleTail());
        } finally {
            jtarget.stop();
        }
    }
}
