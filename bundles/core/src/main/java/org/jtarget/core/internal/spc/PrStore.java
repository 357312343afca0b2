package org.jtarget.core.internal.spc;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.jtarget.core.internal.engine.NexusInfo;

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

    /** One registration as saved: its key and the I_T nexus it was made through. */
    record Saved(long key, NexusInfo info) {
    }

    /** What is saved: PRgeneration, the reservation (type 0: none; holder: nexus id) and the registrations. */
    record Snapshot(int generation, int type, String holder, List<Saved> registrations) {
    }

    void save(Snapshot s) throws IOException {
        Properties p = new Properties();
        p.setProperty("generation", Integer.toString(s.generation()));
        p.setProperty("type", Integer.toString(s.type()));
        if (s.holder() != null) {
            p.setProperty("holder", s.holder());
        }
        p.setProperty("registrations", Integer.toString(s.registrations().size()));
        int i = 0;
        for (Saved r : s.registrations()) {
            String k = "registration." + i++ + ".";
            NexusInfo n = r.info();
            p.setProperty(k + "key", Long.toHexString(r.key()));
            p.setProperty(k + "target", n.targetName());
            p.setProperty(k + "tpg", Integer.toString(n.tpgTag()));
            p.setProperty(k + "relativeTargetPort", Integer.toString(n.relativeTargetPortId()));
            p.setProperty(k + "targetPort", n.targetPortName());
            p.setProperty(k + "protocol", Integer.toString(n.protocolIdentifier()));
            p.setProperty(k + "initiator", n.initiatorName());
            p.setProperty(k + "initiatorPort", n.initiatorPortName());
            p.setProperty(k + "transportId", HexFormat.of().formatHex(n.transportId() == null ? new byte[0] : n.transportId()));
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "jtarget persistent reservations (APTPL, SPC-4 5.9.6)");
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
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
            List<Saved> regs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String k = "registration." + i + ".";
                NexusInfo info = new NexusInfo(p.getProperty(k + "target"), Integer.parseInt(p.getProperty(k + "tpg")),
                        Integer.parseInt(p.getProperty(k + "relativeTargetPort")), p.getProperty(k + "targetPort"),
                        Integer.parseInt(p.getProperty(k + "protocol")), p.getProperty(k + "initiator"),
                        p.getProperty(k + "initiatorPort"), HexFormat.of().parseHex(p.getProperty(k + "transportId", "")));
                regs.add(new Saved(Long.parseUnsignedLong(p.getProperty(k + "key"), 16), info));
            }
            return new Snapshot(Integer.parseInt(p.getProperty("generation", "0")),
                    Integer.parseInt(p.getProperty("type", "0")), p.getProperty("holder"), regs);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a valid persistent reservation file: " + e, e);
        }
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
