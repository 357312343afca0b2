package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jtarget.core.internal.scsi.DeviceServer;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry driving the real device server: what an initiator sees when providers and LUNs come and go. */
class WithDeviceServerTest {
    static final String T = ObjectRegistryTest.T;
    static final String I1 = ObjectRegistryTest.I1;

    @TempDir
    Path home;

    @Test
    void lunsGoNotReadyWhileTheProviderIsAwayAndTheSessionSurvives() throws Exception {
        Doubles.Provider file = new Doubles.Provider("file");
        Doubles.Fabric iscsi = new Doubles.Fabric();
        ObjectRegistry registry = new ObjectRegistry(new DeviceServer(), home);
        registry.bindProvider(file, file.props());
        registry.bindFabric(iscsi, iscsi.props());
        registry.awaitOpener();
        registry.createBackstore("disk1", "file", Map.of("file", "d.img", "size", "1M"));
        registry.createTarget("iscsi", T);
        registry.createTpg(T, 1);
        registry.addPortal(T, 1, "127.0.0.1:3260");
        registry.addLun(T, 1, 0, "disk1");
        registry.addAcl(T, 1, I1);
        Doubles.Session fabricSession = new Doubles.Session(I1);
        ScsiSession session = registry.openSession(registry.lookup("iscsi", T, ObjectRegistryTest.LOCAL).orElseThrow(),
                fabricSession);

        assertEquals("GOOD", untilSettled(session, 0), "after the power-on unit attention");

        registry.unbindProvider(file, file.props());
        assertEquals("NOT READY", senseKey(run(session, 0, new byte[16])));

        registry.bindProvider(file, file.props());
        registry.awaitOpener();
        assertEquals("GOOD", untilSettled(session, 0));
        assertEquals(false, fabricSession.closed);

        registry.createBackstore("disk2", "file", Map.of("file", "d2.img", "size", "1M"));
        registry.addLun(T, 1, 1, "disk2");
        ScsiResponse ua = run(session, 0, new byte[16]);
        assertEquals("UNIT ATTENTION 3f/0e", senseKey(ua) + " " + asc(ua), "REPORTED LUNS DATA HAS CHANGED");
    }

    /** TEST UNIT READY until it stops reporting unit attentions; returns GOOD or the sense key. */
    private static String untilSettled(ScsiSession session, int lun) throws Exception {
        for (int i = 0; i < 5; i++) {
            ScsiResponse r = run(session, lun, new byte[16]);
            if (r.status() == ScsiStatus.GOOD) {
                return "GOOD";
            }
            if (!senseKey(r).equals("UNIT ATTENTION")) {
                return senseKey(r);
            }
        }
        return "still UNIT ATTENTION";
    }

    private static ScsiResponse run(ScsiSession session, int lun, byte[] cdb) throws Exception {
        Task task = new Task(lun, cdb);
        session.submit(task);
        ScsiResponse r = task.response.get(10, TimeUnit.SECONDS);
        if (r.data() != null) {
            r.data().release();
        }
        return r;
    }

    private static String senseKey(ScsiResponse r) {
        if (r.status() != ScsiStatus.CHECK_CONDITION || r.sense() == null) {
            return r.status().toString();
        }
        byte[] s = r.sense();
        int key = (s[0] & 0x7f) >= 0x72 ? s[1] & 0x0f : s[2] & 0x0f; // SPC-4 4.5.2 descriptor, 4.5.3 fixed
        return switch (key) {
            case 2 -> "NOT READY";
            case 6 -> "UNIT ATTENTION";
            default -> "sense key " + key;
        };
    }

    private static String asc(ScsiResponse r) {
        byte[] s = r.sense();
        boolean descriptor = (s[0] & 0x7f) >= 0x72;
        int asc = descriptor ? s[2] & 0xff : s[12] & 0xff;
        int ascq = descriptor ? s[3] & 0xff : s[13] & 0xff;
        return String.format("%02x/%02x", asc, ascq);
    }

    /** A command as a fabric would submit it, with no data. */
    private static final class Task implements ScsiTask {
        final long lun;
        final byte[] cdb;
        final CompletableFuture<ScsiResponse> response = new CompletableFuture<>();

        Task(int lun, byte[] cdb) {
            this.lun = (long) lun << 48; // SAM-5 4.7: single-level LUN in the first two bytes
            this.cdb = cdb;
        }

        @Override
        public long lun() {
            return lun;
        }

        @Override
        public byte[] cdb() {
            return cdb;
        }

        @Override
        public long tag() {
            return 1;
        }

        @Override
        public TaskAttribute attribute() {
            return TaskAttribute.SIMPLE;
        }

        @Override
        public DataDirection direction() {
            return DataDirection.NONE;
        }

        @Override
        public int expectedDataLength() {
            return 0;
        }

        @Override
        public CompletionStage<ByteBuf> receiveData() {
            return CompletableFuture.failedFuture(new IllegalStateException("no Data-Out"));
        }

        @Override
        public void complete(ScsiResponse r) {
            response.complete(r);
        }

        @Override
        public void aborted() {
            response.completeExceptionally(new IllegalStateException("aborted"));
        }
    }
}
