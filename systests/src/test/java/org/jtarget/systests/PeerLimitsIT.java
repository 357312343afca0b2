package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jtarget.systests.wire.IscsiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Resources bounded per peer (issue 6) against the started distribution: one session's READ latency idle and
 * while (a) a flood of half-open logins and (b) initiators that stop reading their socket load the target,
 * printed with their ratio; and the hard facts: connection 17 in login from one address is closed at once
 * (max_logins_per_address 16), a stalled login is closed after login_timeout, a slow reader makes the target
 * read (and so hold) only a bounded amount of data, and gets all of it once it reads again, a third session of
 * one initiator beyond max_sessions_per_initiator 2 gets login status 0x0302; limits are saved, invalid ones
 * refused with their range.
 * Latency is asserted only against a bound no shared machine can miss; the figures are for the reader.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PeerLimitsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String PROBE = "iqn.2026-12.org.example:probe";
    private static final int BLOCK = 512;
    private static final int LOGIN_TIMEOUT = 5;
    private static final int MAX_LOGINS = 16; // the default of max_logins_per_address
    private static final int SLOW_READERS = 4;
    private static final int SLOW_READS = 128; // the default CmdSN window
    private static final int SLOW_READ_BYTES = 1 << 20;

    private JtargetInstance jtarget;
    private IscsiClient probe;
    private long[] idle;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("limits");
        jtarget.start();
        jtarget.execOk("tpg:set " + DEFAULT_IQN + " 1 login_timeout " + LOGIN_TIMEOUT);
        probe = IscsiClient.connect("127.0.0.1", jtarget.port(), TIMEOUT);
        assertEquals(0, probe.login(PROBE, 0x023d00000001L, DEFAULT_IQN).loginStatus());
        assertTrue(probe.testUnitReady(0).good());
        latencies(); // warm-up (JIT, page cache) so that idle is the settled figure
        idle = latencies();
    }

    @AfterAll
    void stop() throws Exception {
        if (probe != null) {
            probe.close();
        }
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    /** Microseconds of 5000 READs of 4 KiB at queue depth 1 (after 300 not counted), sorted. */
    private long[] latencies() throws IOException {
        long[] out = new long[5000];
        for (int i = -300; i < out.length; i++) {
            int lba = (int) ((i * 2654435761L & 0x7fffffffL) % (64 << 11)) & ~7; // spread over 64 MiB
            long t0 = System.nanoTime();
            IscsiClient.Result r = probe.read10(0, lba, 8, BLOCK);
            long micros = (System.nanoTime() - t0) / 1000;
            assertTrue(r.good(), r::toString);
            if (i >= 0) {
                out[i] = micros;
            }
        }
        Arrays.sort(out);
        return out;
    }

    private static long p50(long[] sorted) {
        return sorted[sorted.length / 2];
    }

    private static long p99(long[] sorted) {
        return sorted[sorted.length * 99 / 100];
    }

    private String report(String what, long[] under) {
        String line = String.format("latency of one session, READ 4 KiB qd1, p50/p99 us: idle %d/%d, %s %d/%d"
                + " (p50 x%.2f)", p50(idle), p99(idle), what, p50(under), p99(under),
                (double) p50(under) / Math.max(1, p50(idle)));
        System.out.println(line);
        return line;
    }

    /** A bound no loaded 2-core machine misses, yet far below a session stalled behind the load. */
    private void assertGenerous(long[] under, String line) {
        assertTrue(p50(under) < 20 * p50(idle) + 20_000, line);
    }

    /** A connection that sent 20 bytes of a Login Request and stalls. */
    private Socket halfOpen() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", jtarget.port()), 5000);
        byte[] partial = new byte[20];
        partial[0] = 0x43; // Login Request, immediate (RFC 7143 §11.12)
        partial[1] = (byte) 0x81;
        s.getOutputStream().write(partial);
        return s;
    }

    /** Whether the target closed {@code s} within {@code wait}: end of stream or a reset. */
    private static boolean closedWithin(Socket s, Duration wait) throws IOException {
        s.setSoTimeout((int) wait.toMillis());
        try {
            InputStream in = s.getInputStream();
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    @Order(1)
    void aLimitIsSavedAndAnInvalidOneRefusedWithItsRange() throws IOException {
        String saved = Files.readString(jtarget.home().resolve("conf/jtarget.json"));
        assertTrue(saved.contains("\"login_timeout\": \"" + LOGIN_TIMEOUT + "\""), saved);
        Cmd.Result r = jtarget.exec("tpg:set " + DEFAULT_IQN + " 1 max_sessions 0");
        assertFalse(r.ok(), r::describe);
        assertTrue((r.out() + r.err()).contains("max_sessions: 0 (expected: sessions per target, an integer from 1"
                + " to 65535)"), r::describe);
    }

    @Test
    @Order(4)
    void sessionsBeyondMaxSessionsPerInitiatorGetOutOfResources() throws IOException {
        jtarget.execOk("tpg:set " + DEFAULT_IQN + " 1 max_sessions_per_initiator 2");
        String name = "iqn.2026-12.org.example:many";
        List<IscsiClient> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), TIMEOUT);
                sessions.add(c);
                int status = c.login(name, 0x023d00000200L + i, DEFAULT_IQN).loginStatus();
                // RFC 7143 §11.13.5: 0x0302 Out of resources for the third
                assertEquals(i < 2 ? 0 : 0x0302, status, "login " + (i + 1) + " of one initiator");
            }
            assertTrue(sessions.get(2).closedByTarget());
            assertTrue(sessions.get(0).testUnitReady(0).good(), "the sessions within the limit work");
        } finally {
            for (IscsiClient c : sessions) {
                c.close();
            }
            jtarget.execOk("tpg:unset " + DEFAULT_IQN + " 1 max_sessions_per_initiator");
        }
    }

    @Test
    @Order(2)
    void halfOpenLoginsAreCappedPerAddressClosedAfterTheLoginTimeoutAndLeaveSessionsAlone() throws Exception {
        List<Socket> held = new ArrayList<>();
        long opened = System.nanoTime();
        try {
            for (int i = 0; i < MAX_LOGINS; i++) {
                held.add(halfOpen());
            }
            assertFalse(closedWithin(held.get(MAX_LOGINS - 1), Duration.ofMillis(300)), "16 in login are let be");
            try (Socket extra = halfOpen()) {
                assertTrue(closedWithin(extra, Duration.ofSeconds(10)), "connection 17 in login from one address");
            }
            long[] flooded = underFlood();
            assertGenerous(flooded, report("half-open login flood", flooded));
            for (Socket s : held) {
                assertTrue(closedWithin(s, Duration.ofSeconds(LOGIN_TIMEOUT + 15)), "stalled login closed");
            }
            long seconds = (System.nanoTime() - opened) / 1_000_000_000L;
            assertTrue(seconds >= LOGIN_TIMEOUT - 1, "not before login_timeout: " + seconds + " s");
            assertTrue(probe.testUnitReady(0).good(), "the established session was never affected");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** The probe's latencies while two threads keep opening half-open logins (at most ~1000 a second). */
    private long[] underFlood() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger connections = new AtomicInteger();
        List<Thread> flooders = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread flooder = new Thread(() -> {
                ArrayDeque<Socket> mine = new ArrayDeque<>();
                try {
                    while (!stop.get() && connections.incrementAndGet() < 20_000) {
                        try {
                            mine.add(halfOpen());
                        } catch (IOException e) {
                            continue; // refused under load: try again
                        }
                        if (mine.size() > 64) {
                            mine.poll().close();
                        }
                        LockSupport.parkNanos(2_000_000); // pacing, so the client's ports last
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } finally {
                    mine.forEach(s -> {
                        try {
                            s.close();
                        } catch (IOException ignored) {
                            // closing
                        }
                    });
                }
            }, "half-open flood " + t);
            flooders.add(flooder);
            flooder.start();
        }
        try {
            return latencies();
        } finally {
            stop.set(true);
            for (Thread t : flooders) {
                t.join(30_000);
            }
            System.out.println("half-open flood: " + connections.get() + " connections opened");
        }
    }

    @Test
    @Order(3)
    void slowReadersMakeTheTargetHoldABoundedAmountAndGetEverythingOnceTheyRead() throws Exception {
        long pid = jtarget.pid();
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/" + pid + "/io")),
                "skipped: /proc/" + pid + "/io is not readable here (the bytes the target reads are measured there)");
        long before = readBytes(pid);
        assertTrue(probe.read10(0, 0, 2048, BLOCK).good());
        Assumptions.assumeTrue(readBytes(pid) - before >= SLOW_READ_BYTES,
                "skipped: the target's file reads do not show in /proc/" + pid + "/io rchar");
        long rssBefore = rssKib(pid);
        List<IscsiClient> slow = new ArrayList<>();
        try {
            for (int i = 0; i < SLOW_READERS; i++) {
                // a small receive buffer: the kernel takes little, the rest would have to wait in the target
                IscsiClient c = IscsiClient.connect("127.0.0.1", jtarget.port(), TIMEOUT, 65536);
                slow.add(c);
                assertEquals(0, c.login("iqn.2026-12.org.example:slow-" + i, 0x023d00000100L + i, DEFAULT_IQN)
                        .loginStatus());
                assertTrue(c.testUnitReady(0).good());
            }
            long start = readBytes(pid);
            for (IscsiClient c : slow) { // 128 READs of 1 MiB each, never read back (yet)
                for (int n = 0; n < SLOW_READS; n++) {
                    c.sendCommand(0, IscsiClient.cdb10(0x28, (n * 2048) % (1 << 21), 2048, 0), SLOW_READ_BYTES);
                }
            }
            long read = settledReadBytes(pid) - start;
            long requested = (long) SLOW_READERS * SLOW_READS * SLOW_READ_BYTES;
            long[] slowed = latencies();
            String line = report("4 slow readers", slowed);
            System.out.printf("slow readers: %d MiB requested, %d MiB read by the target meanwhile; RSS %d -> %d MiB%n",
                    requested >> 20, read >> 20, rssBefore >> 10, rssKib(pid) >> 10);
            // per reader: max_data_in_bytes 8 MiB + a 4 MiB write buffer + what the kernel's socket buffers take
            assertTrue(read < requested / 2, "the target read " + (read >> 20) + " MiB for readers that do not read"
                    + " (expected: far less than the " + (requested >> 20) + " MiB they asked for)");
            assertGenerous(slowed, line);
            IscsiClient first = slow.get(0);
            int good = 0;
            while (good < SLOW_READS) { // it reads again: every READ is answered, none was lost
                IscsiClient.Pdu pdu = first.receive();
                if (pdu.opcode() == 0x25 && (pdu.flags() & 0x01) != 0) {
                    assertEquals(0, pdu.status(), pdu::toString);
                    good++;
                } else if (pdu.opcode() == 0x21) {
                    throw new AssertionError("SCSI Response instead of Data-In: status " + pdu.status());
                }
            }
            assertTrue(probe.testUnitReady(0).good());
        } finally {
            for (IscsiClient c : slow) {
                c.close();
            }
        }
    }

    /** rchar of /proc/PID/io once it has not moved for a second (at most 30 s). */
    private static long settledReadBytes(long pid) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long last = readBytes(pid);
        while (System.nanoTime() < deadline) {
            Thread.sleep(1000); // sampling interval of the measurement, not synchronisation
            long now = readBytes(pid);
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }

    private static long readBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("rchar:")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        throw new IOException("no rchar in /proc/" + pid + "/io");
    }

    private static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
