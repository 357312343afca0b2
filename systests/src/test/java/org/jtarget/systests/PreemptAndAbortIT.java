package org.jtarget.systests;

import static org.jtarget.systests.ClusterFencingIT.PREEMPT_AND_ABORT;
import static org.jtarget.systests.ClusterFencingIT.REGISTER_AND_IGNORE;
import static org.jtarget.systests.ClusterFencingIT.RESERVE;
import static org.jtarget.systests.ClusterFencingIT.prOut;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * PREEMPT AND ABORT while the preempted node really has writes in flight (SPC-4 5.9.11.5; SAM-5 5.6 and 7.2):
 * the LUN is an nbd backstore on {@code nbdkit --filter=delay memory 64M wdelay=2}, so every write is held 2 s in
 * the backstore. Node A holds a Write Exclusive - Registrants Only reservation and has four writes in the
 * backstore when node B preempts and aborts its key. With TAS 0 (jtarget's control mode page) A's writes end
 * without a status: A gets no SCSI Response for them, and its next commands hear REGISTRATIONS PREEMPTED
 * (2Ah/05h) and COMMANDS CLEARED BY ANOTHER INITIATOR (2Fh/00h), then its writes RESERVATION CONFLICT; B's
 * writes succeed; and nothing of A's aborted writes reaches the medium after PREEMPT AND ABORT has completed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PreemptAndAbortIT {
    static final String IQN = "iqn.2026-12.org.jtarget:fenced";
    static final String NODE_A = "iqn.2026-12.org.example:node-a";
    static final String NODE_B = "iqn.2026-12.org.example:node-b";
    static final long KEY_A = 0xaaaa0001L;
    static final long KEY_B = 0xbbbb0002L;
    static final int TYPE_WE_RO = 5;
    static final int BLOCK = 512;
    static final int BLOCKS = 8; // 4 KiB per write
    static final int[] LBAS = {0, 64, 128, 192};
    static final Duration WRITE_DELAY = Duration.ofSeconds(2);
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private JtargetInstance jtarget;
    private Process nbdkit;
    private int portal;

    @BeforeAll
    void start() throws Exception {
        Cmd.assumeInstalled("nbdkit", "nbdkit");
        jtarget = JtargetInstance.create("preempt-abort");
        jtarget.start();
        int nbdPort = JtargetInstance.freePort();
        nbdkit = Nbdkit.start(jtarget.dir().resolve("nbdkit.log"), nbdPort, "--filter=delay", "memory", "64M",
                "wdelay=" + WRITE_DELAY.toSeconds());
        portal = JtargetInstance.freePort();
        jtarget.execOk("backstore:create slow nbd uri=nbd://127.0.0.1:" + nbdPort);
        jtarget.execOk("target:create " + IQN);
        jtarget.execOk("tpg:create " + IQN + " 1");
        jtarget.execOk("tpg:set " + IQN + " 1 generate_node_acls true");
        jtarget.execOk("lun:add " + IQN + " 1 0 slow");
        jtarget.execOk("portal:add " + IQN + " 1 127.0.0.1:" + portal);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (jtarget != null) {
                jtarget.stop();
            }
        } finally {
            if (nbdkit != null) {
                nbdkit.destroy();
                nbdkit.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private IscsiClient node(String name, long isid) throws IOException {
        IscsiClient c = IscsiClient.connect("127.0.0.1", portal, TIMEOUT);
        assertEquals(0, c.login(name, isid, IQN).loginStatus(), name + " login");
        assertTrue(c.testUnitReady(0).good(), name + " TEST UNIT READY");
        return c;
    }

    static byte[] pattern(int b) {
        byte[] d = new byte[BLOCKS * BLOCK];
        Arrays.fill(d, (byte) b);
        return d;
    }

    /** What each of {@link #LBAS} holds, read through {@code c}. */
    static List<byte[]> readAll(IscsiClient c) throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (int lba : LBAS) {
            IscsiClient.Result r = c.read10(0, lba, BLOCKS, BLOCK);
            assertTrue(r.good(), () -> "read at " + lba + ": " + r);
            out.add(r.data());
        }
        return out;
    }

    @Test
    void preemptAndAbortEndsTheWritesInFlightSilentlyAndNoneLandsAfterwards() throws IOException {
        try (IscsiClient a = node(NODE_A, 0x023d0000000aL); IscsiClient b = node(NODE_B, 0x023d0000000bL)) {
            assertTrue(prOut(a, REGISTER_AND_IGNORE, 0, 0, KEY_A, false).good(), "A registers");
            assertTrue(prOut(b, REGISTER_AND_IGNORE, 0, 0, KEY_B, false).good(), "B registers");
            assertTrue(prOut(a, RESERVE, TYPE_WE_RO, KEY_A, 0, false).good(), "A reserves type 5");
            List<byte[]> before = readAll(b);

            // A's writes go out without waiting; a TEST UNIT READY behind them is answered first, so they have
            // been taken (commands are started in CmdSN order) and sit in the backstore's 2 s delay
            Set<Integer> writes = new TreeSet<>();
            for (int lba : LBAS) {
                writes.add(a.sendWrite(0, IscsiClient.cdb10(0x2A, lba, BLOCKS, 0), pattern(0xA5)));
            }
            int tur = a.sendCommand(0, new byte[6], 0);
            IscsiClient.Pdu first = a.receive();
            assertEquals(tur, first.itt(), () -> "the TEST UNIT READY is answered first, not " + first);
            assertEquals(0, first.status(), "GOOD");

            long t0 = System.nanoTime();
            IscsiClient.Result preempt = prOut(b, PREEMPT_AND_ABORT, TYPE_WE_RO, KEY_B, KEY_A, false);
            long preemptMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long completedAt = System.nanoTime();
            assertTrue(preempt.good(), () -> "PREEMPT AND ABORT: " + preempt);
            System.out.println("PREEMPT AND ABORT took " + preemptMillis + " ms with 4 writes held "
                    + WRITE_DELAY.toMillis() + " ms in the backstore");

            // what A hears: nothing for the aborted writes (TAS 0), then the unit attentions
            List<String> heard = new ArrayList<>();
            int probe = a.sendCommand(0, new byte[6], 0);
            IscsiClient.Pdu p;
            while ((p = a.receive()).itt() != probe) {
                heard.add(p.toString() + (writes.contains(p.itt()) ? " for an aborted write, status 0x"
                        + Integer.toHexString(p.status()) : ""));
            }
            assertEquals(List.of(), heard, "A gets no SCSI Response for its aborted writes (TAS 0)");
            IscsiClient.Result ua1 = response(p);
            assertEquals(0x6, ua1.senseKey(), ua1::toString);
            assertEquals(0x2A05, ua1.ascq(), () -> "REGISTRATIONS PREEMPTED first: " + ua1);
            IscsiClient.Result ua2 = a.command(0, new byte[6], 0, null);
            assertEquals(0x2F00, ua2.ascq(), () -> "then COMMANDS CLEARED BY ANOTHER INITIATOR: " + ua2);
            IscsiClient.Result refused = a.write10(0, LBAS[0], pattern(0x5A), BLOCK, false);
            assertEquals(0x18, refused.status(), () -> "A's next write: RESERVATION CONFLICT " + refused);

            // the medium right after the preempt: an aborted write may have been done or not (SAM-5 5.6), but from
            // now on nothing of it may land; B overwrites the first two extents, the other two must stay as read
            List<byte[]> after = readAll(b);
            for (int i = 0; i < LBAS.length; i++) {
                boolean old = Arrays.equals(before.get(i), after.get(i));
                boolean aborted = Arrays.equals(pattern(0xA5), after.get(i));
                assertTrue(old || aborted, "LBA " + LBAS[i] + " holds the old data or A's whole write");
                System.out.println("LBA " + LBAS[i] + " right after PREEMPT AND ABORT: "
                        + (aborted ? "A's aborted write was done" : "A's aborted write was not done"));
            }
            for (int i = 0; i < 2; i++) {
                IscsiClient.Result w = b.write10(0, LBAS[i], pattern(0xB6), BLOCK, true);
                assertTrue(w.good(), () -> "B, the reservation holder now, writes: " + w);
            }
            List<byte[]> expected = new ArrayList<>(after);
            expected.set(0, pattern(0xB6));
            expected.set(1, pattern(0xB6));
            // watch the medium until twice the backstore's delay has passed since the preempt completed: a write of
            // A's that was still held would land within one delay
            long until = completedAt + 2 * WRITE_DELAY.toNanos();
            int reads = 0;
            do {
                List<byte[]> now = readAll(b);
                reads++;
                for (int i = 0; i < LBAS.length; i++) {
                    if (!Arrays.equals(expected.get(i), now.get(i))) {
                        fail("LBA " + LBAS[i] + " changed after PREEMPT AND ABORT had completed (read " + reads
                                + "): " + (Arrays.equals(pattern(0xA5), now.get(i))
                                ? "A's aborted write landed on the medium" : "unexpected data"));
                    }
                }
            } while (System.nanoTime() < until);
            assertArrayEquals(expected.toArray(), readAll(b).toArray(), "the medium after the watch");
        }
    }

    private static IscsiClient.Result response(IscsiClient.Pdu pdu) {
        assertEquals(0x21, pdu.opcode(), () -> "a SCSI Response: " + pdu);
        byte[] sense = new byte[0];
        if (pdu.data().length >= 2) {
            int length = ((pdu.data()[0] & 0xFF) << 8) | (pdu.data()[1] & 0xFF);
            sense = Arrays.copyOfRange(pdu.data(), 2, 2 + length);
        }
        return new IscsiClient.Result(pdu.status(), sense, new byte[0], 0, pdu.flags());
    }
}
