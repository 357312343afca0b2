package org.jtarget.core.internal.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.core.internal.scsi.DeviceServer;
import org.jtarget.scsi.DataDirection;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskAttribute;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiResponse;

/** Drives a {@link DeviceServer} through a nexus the way a fabric would. */
public final class Harness implements AutoCloseable {
    public final DeviceServer server = new DeviceServer();
    public final Map<Integer, LogicalUnit> luns = new TreeMap<>();
    public final LunMap lunMap = new LunMap() {
        @Override
        public LogicalUnit get(int lun) {
            return luns.get(lun);
        }

        @Override
        public int[] luns() {
            return luns.keySet().stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public String targetPortReaching(int relativeTargetPortId, LogicalUnit lu) {
            // target ports 1 and 2 of the test target map every LU
            return relativeTargetPortId == 1 || relativeTargetPortId == 2 ? targetPort(relativeTargetPortId) : null;
        }
    };
    /** The test target's name. */
    public static final String TARGET = "iqn.2026-11.org.jtarget:test";
    private final AtomicLong tags = new AtomicLong(1);

    public LogicalUnit addLu(int lun, String name, MemoryBackstore backstore) {
        LogicalUnit lu = server.createLogicalUnit(name, "serial-" + name);
        if (backstore != null) {
            lu.attach(backstore);
        }
        luns.put(lun, lu);
        return lu;
    }

    public ScsiEngine.Nexus open(String initiator) {
        return open(initiator, "000000000001", 1);
    }

    /** The name of target port (TPG) {@code tpg} of the test target. */
    public static String targetPort(int tpg) {
        return TARGET + ",t,0x" + String.format("%04x", tpg);
    }

    /** A nexus through TPG {@code tag} of the test target (relative target port identifier = the tag). */
    public ScsiEngine.Nexus open(String initiator, int tag) {
        return open(initiator, "000000000001", tag);
    }

    /** An I_T nexus from initiator port {@code initiator,i,0x<isid>} to target port {@code tpg} (its RTPI). */
    public ScsiEngine.Nexus open(String initiator, String isid, int tpg) {
        NexusInfo info = new NexusInfo(TARGET, tpg, tpg, targetPort(tpg), 5, initiator, initiator + ",i,0x" + isid,
                new byte[0]);
        return server.openNexus(info, lunMap, new FabricSession() {
            @Override
            public String initiatorName() {
                return initiator;
            }

            @Override
            public byte[] transportId() {
                return new byte[0];
            }

            @Override
            public String initiatorPortName() {
                return info.initiatorPortName();
            }

            @Override
            public void close() {
            }
        });
    }

    public long nextTag() {
        return tags.getAndIncrement();
    }

    /** Submits and waits; the caller releases the response's data (see {@link #release}). */
    public static ScsiResponse run(ScsiEngine.Nexus nexus, TestTask task) {
        nexus.submit(task);
        try {
            return task.response.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no response for " + task, e);
        }
    }

    public ScsiResponse in(ScsiEngine.Nexus nexus, int lun, byte[] cdb, int expected) {
        return run(nexus, new TestTask(lun, cdb, nextTag(), TaskAttribute.SIMPLE, DataDirection.READ, expected, null));
    }

    public ScsiResponse none(ScsiEngine.Nexus nexus, int lun, byte[] cdb) {
        return run(nexus, new TestTask(lun, cdb, nextTag(), TaskAttribute.SIMPLE, DataDirection.NONE, 0, null));
    }

    public ScsiResponse out(ScsiEngine.Nexus nexus, int lun, byte[] cdb, byte[] data) {
        return run(nexus, new TestTask(lun, cdb, nextTag(), TaskAttribute.SIMPLE, DataDirection.WRITE, data.length,
                data));
    }

    /** Copies and releases the Data-In. */
    public static byte[] data(ScsiResponse r) {
        assertEquals(ScsiStatus.GOOD, r.status(), () -> "status with sense " + hex(r.sense()));
        ByteBuf d = r.data();
        assertNotNull(d, "data");
        byte[] b = new byte[d.readableBytes()];
        d.readBytes(b);
        d.release();
        return b;
    }

    public static void good(ScsiResponse r) {
        assertEquals(ScsiStatus.GOOD, r.status(), () -> "sense " + hex(r.sense()));
        release(r);
    }

    public static void release(ScsiResponse r) {
        if (r.data() != null) {
            r.data().release();
        }
    }

    /** Asserts CHECK CONDITION with fixed-format key/ASC/ASCQ. */
    public static byte[] check(ScsiResponse r, int key, int asc, int ascq) {
        release(r);
        assertEquals(ScsiStatus.CHECK_CONDITION, r.status());
        byte[] s = r.sense();
        assertNotNull(s);
        assertTrue((s[0] & 0x7F) == 0x70, "fixed format");
        assertEquals(key, s[2] & 0x0F, () -> "sense key in " + hex(s));
        assertEquals(asc, s[12] & 0xFF, () -> "ASC in " + hex(s));
        assertEquals(ascq, s[13] & 0xFF, () -> "ASCQ in " + hex(s));
        return s;
    }

    public static void noData(ScsiResponse r) {
        assertNull(r.data());
    }

    public static String hex(byte[] b) {
        return b == null ? "null" : java.util.HexFormat.of().formatHex(b);
    }

    /** Clears the POWER ON unit attention with one TEST UNIT READY. */
    public void clearUa(ScsiEngine.Nexus nexus, int lun) {
        ScsiResponse r = none(nexus, lun, new byte[6]);
        release(r);
    }

    @Override
    public void close() {
    }
}
