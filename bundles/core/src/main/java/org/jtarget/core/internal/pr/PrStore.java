package org.jtarget.core.internal.pr;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

/**
 * Persistent reservation state that must survive power loss (APTPL, SPC-4 5.9.6): one properties file
 * per logical unit, replaced atomically (written to a temporary file, forced to disk, then renamed).
 */
public final class PrStore {
    private final Path file;

    public PrStore(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /**
     * What is saved: PRGENERATION, the reservation (type 0: none; holder: the index of the holding
     * registration, -1 for none or an all-registrants type) and the registrations in their order.
     */
    record Snapshot(int generation, int type, int holder, List<Registration> registrations) {
    }

    void save(Snapshot s) throws IOException {
        Properties p = new Properties();
        p.setProperty("version", "2");
        p.setProperty("generation", Integer.toString(s.generation()));
        p.setProperty("type", Integer.toString(s.type()));
        p.setProperty("holder", Integer.toString(s.holder()));
        p.setProperty("registrations", Integer.toString(s.registrations().size()));
        int i = 0;
        for (Registration r : s.registrations()) {
            String k = "registration." + i++ + ".";
            p.setProperty(k + "key", Long.toHexString(r.key()));
            p.setProperty(k + "initiator", r.initiatorName());
            if (r.isid() != null) {
                p.setProperty(k + "isid", r.isid());
            }
            p.setProperty(k + "target", r.targetName());
            if (r.targetPort() != null) {
                p.setProperty(k + "targetPort", r.targetPort());
            }
            p.setProperty(k + "relativeTargetPort", Integer.toString(r.relativeTargetPortId()));
            p.setProperty(k + "transportId", HexFormat.of().formatHex(r.transportId())); // for people reading it
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            p.store(java.nio.channels.Channels.newOutputStream(ch), "jtarget persistent reservations (APTPL, SPC-4 5.9.6)");
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself survives a power loss
        } catch (IOException e) {
            // some file systems cannot sync a directory; the rename stays atomic
        }
    }

    /** The saved state, or null when there is none. */
    Snapshot load() throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(file)) {
            p.load(in);
        }
        try {
            int n = Integer.parseInt(p.getProperty("registrations", "0"));
            List<Registration> regs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String k = "registration." + i + ".";
                long key = Long.parseUnsignedLong(required(p, k + "key"), 16);
                String isid = p.getProperty(k + "isid");
                if (isid == null && p.getProperty(k + "initiatorPort") != null) { // version 1: the port name
                    isid = TransportIds.isidOf(p.getProperty(k + "initiatorPort"));
                }
                if (key == 0 || (isid != null && TransportIds.normalIsid(isid) == null)) {
                    throw new IllegalArgumentException(k + "key/isid: " + Long.toHexString(key) + "/" + isid);
                }
                regs.add(new Registration(key, required(p, k + "initiator"), isid == null ? null : TransportIds.normalIsid(isid),
                        required(p, k + "target"), p.getProperty(k + "targetPort"),
                        Integer.parseInt(p.getProperty(k + "relativeTargetPort", "0"))));
            }
            int type = Integer.parseInt(p.getProperty("type", "0"));
            int holder = holderIndex(p, n);
            if ((type != 0 && !PersistentReservations.validType(type)) || holder >= n || holder < -1
                    || (type != 0 && holder < 0 && !PersistentReservations.allRegistrants(type))) {
                throw new IllegalArgumentException("type/holder: " + type + "/" + holder);
            }
            return new Snapshot(Integer.parseInt(p.getProperty("generation", "0")), type,
                    type == 0 || PersistentReservations.allRegistrants(type) ? -1 : holder, regs);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a valid persistent reservation file: " + e, e);
        }
    }

    /** The holder: an index (version 2) or, in version 1 files, "initiator port|target port". */
    private static int holderIndex(Properties p, int n) {
        String h = p.getProperty("holder", "-1");
        if (!"1".equals(p.getProperty("version", "1")) || h.matches("-?[0-9]+")) {
            return Integer.parseInt(h);
        }
        for (int i = 0; i < n; i++) {
            String k = "registration." + i + ".";
            if (h.equals(p.getProperty(k + "initiatorPort") + "|" + p.getProperty(k + "targetPort"))) {
                return i;
            }
        }
        return -1;
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException(key + " missing");
        }
        return v;
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
