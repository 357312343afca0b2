package org.jtarget.iscsi.internal.session;

import java.nio.charset.StandardCharsets;
import org.jtarget.spi.fabric.FabricSession;

/** The iSCSI side of an I_T nexus as the core sees it. */
final class IscsiFabricSession implements FabricSession {
    private final String initiatorName;
    private final long isid;
    private final IscsiConnection connection;

    IscsiFabricSession(String initiatorName, long isid, IscsiConnection connection) {
        this.initiatorName = initiatorName;
        this.isid = isid;
        this.connection = connection;
    }

    @Override
    public String initiatorName() {
        return initiatorName;
    }

    /** SPC-4 7.6.4.6: format 01b, protocol 5; the name NUL-terminated, padded to 4, at least 20 bytes. */
    @Override
    public byte[] transportId() {
        byte[] name = initiatorPortName().getBytes(StandardCharsets.UTF_8);
        int length = Math.max(20, (name.length + 1 + 3) & ~3);
        byte[] id = new byte[4 + length];
        id[0] = 0x45;
        id[2] = (byte) (length >> 8);
        id[3] = (byte) length;
        System.arraycopy(name, 0, id, 4, name.length);
        return id;
    }

    /** RFC 7143 §4.2.7.1 / SPC-4: {@code name,i,0x<ISID>}. */
    @Override
    public String initiatorPortName() {
        return initiatorName + ",i,0x" + String.format("%012x", isid);
    }

    @Override
    public void close() {
        connection.terminate();
    }

    @Override
    public String toString() {
        return "IscsiFabricSession[" + initiatorPortName() + "]";
    }
}
