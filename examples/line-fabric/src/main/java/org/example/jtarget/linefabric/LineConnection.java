package org.example.jtarget.linefabric;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Consumer;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.scsi.ScsiStatus;

/**
 * One client connection. Commands (one per line, ASCII; numbers decimal, data hex) and their answers:
 *
 * <pre>
 * LOGIN target initiator    OK | ERR why            opens the I_T nexus (TargetCore.openSession)
 * LUN n                     OK                      the LUN the next commands address (default 0)
 * TUR                       OK                      TEST UNIT READY (a new session's first command on a
 *                                                   LUN gets the unit attention CHECK 6 29 00)
 * INQUIRY                   OK hex                  standard INQUIRY data (36 bytes)
 * CAPACITY                  OK blocks blocksize     READ CAPACITY (16)
 * READ lba blocks           OK hex                  READ (16), at most 2048 blocks
 * WRITE lba hex             OK                      WRITE (16) of the bytes (whole blocks)
 * FLUSH                     OK                      SYNCHRONIZE CACHE (10)
 * QUIT                      OK                      ends the session and the connection
 * </pre>
 *
 * A command that ends with CHECK CONDITION answers {@code CHECK key asc ascq} (hex); another status
 * {@code STATUS name}; a command the core aborted {@code ABORTED}; a malformed line {@code ERR why}.
 * A line longer than {@value #MAX_LINE} bytes ends the connection.
 */
final class LineConnection implements Runnable, FabricSession {
    static final int MAX_LINE = 1 << 20;
    private static final HexFormat HEX = HexFormat.of();

    private final TargetCore core;
    private final Socket socket;
    private final ServerSocket portal;
    private final Consumer<LineConnection> onClose;
    private volatile ScsiSession session;
    private String initiator = "";
    private int lun;
    private long nextTag;

    LineConnection(TargetCore core, Socket socket, ServerSocket portal, Consumer<LineConnection> onClose) {
        this.core = core;
        this.socket = socket;
        this.portal = portal;
        this.onClose = onClose;
    }

    ServerSocket portal() {
        return portal;
    }

    @Override
    public void run() {
        try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            String line;
            while ((line = readLine(in)) != null) {
                String answer = answer(line.trim());
                out.write((answer + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (line.trim().equals("QUIT")) {
                    break;
                }
            }
        } catch (IOException e) {
            // the peer left, the line was too long, or close() closed the socket
        } finally {
            close();
        }
    }

    private String answer(String line) {
        String[] w = line.split(" +");
        try {
            if (w[0].equals("LOGIN")) {
                return login(w);
            }
            if (w[0].equals("QUIT")) {
                return "OK";
            }
            if (session == null) {
                return "ERR not logged in (expected: LOGIN target initiator)";
            }
            Commands c = new Commands(session, lun, () -> nextTag++);
            return switch (w[0]) {
                case "LUN" -> {
                    lun = (int) number(w, 1, 16383);
                    yield "OK";
                }
                case "TUR" -> c.testUnitReady();
                case "INQUIRY" -> c.inquiry();
                case "CAPACITY" -> c.capacity();
                case "READ" -> c.read(number(w, 1, Long.MAX_VALUE), (int) number(w, 2, 2048));
                case "WRITE" -> c.write(number(w, 1, Long.MAX_VALUE), hex(w, 2));
                case "FLUSH" -> c.flush();
                default -> "ERR unknown command: " + printable(w[0]) + " (expected: LOGIN, LUN, TUR, INQUIRY, CAPACITY, READ, WRITE, FLUSH, QUIT)";
            };
        } catch (IllegalArgumentException e) {
            return "ERR " + printable(e.getMessage());
        }
    }

    private static String arg(String[] w, int i) {
        if (w.length <= i) {
            throw new IllegalArgumentException(w[0] + ": argument " + i + " missing");
        }
        return w[i];
    }

    /** Argument {@code i}: a decimal number from 0 to {@code max}. */
    private static long number(String[] w, int i, long max) {
        String a = arg(w, i);
        try {
            long n = Long.parseLong(a);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(w[0] + ": " + a + " (expected: a decimal number from 0 to " + max + ")");
    }

    /** Argument {@code i}: bytes in hex. */
    private static byte[] hex(String[] w, int i) {
        String a = arg(w, i);
        try {
            return HEX.parseHex(a);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(w[0] + ": data of " + a.length() + " characters (expected: an even number of hex digits)");
        }
    }

    private String login(String[] w) {
        if (session != null) {
            return "ERR already logged in";
        }
        String target = arg(w, 1);
        initiator = arg(w, 2);
        InetSocketAddress local = (InetSocketAddress) socket.getLocalSocketAddress();
        Optional<TpgEndpoint> tpg = core.lookup(LineFabric.NAME, target, local);
        if (tpg.isEmpty()) {
            return "ERR no target " + printable(target) + " of fabric line on " + local.getHostString() + ":" + local.getPort();
        }
        Optional<InitiatorAccess> access = tpg.get().access(initiator);
        if (access.isEmpty() || access.get().chapRequired()) { // this fabric has no CHAP
            return "ERR initiator " + printable(initiator) + " is not allowed on " + printable(target);
        }
        try {
            session = core.openSession(tpg.get(), this);
        } catch (FabricException e) {
            return "ERR " + printable(e.getMessage());
        }
        return "OK";
    }

    /** Reads one line of at most {@link #MAX_LINE} bytes, or null at the end of the stream. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                return b.length() == 0 ? null : b.toString();
            }
            if (b.length() >= MAX_LINE) {
                throw new IOException("line longer than " + MAX_LINE + " bytes");
            }
            b.append((char) c);
        }
        return b.toString();
    }

    /** Network text for an answer: printable ASCII only, at most 128 characters. */
    private static String printable(String s) {
        String t = s == null ? "" : s.replaceAll("[^\\x20-\\x7e]", "?");
        return t.length() > 128 ? t.substring(0, 128) + "..." : t;
    }

    static String status(ScsiResponse r) {
        if (r.status() == ScsiStatus.CHECK_CONDITION && r.sense() != null && r.sense().length >= 4) {
            byte[] s = r.sense();
            boolean descriptor = (s[0] & 0x7F) >= 0x72;
            int key = descriptor ? s[1] & 0x0F : s[2] & 0x0F;
            int asc = descriptor ? s[2] & 0xFF : s.length > 13 ? s[12] & 0xFF : 0;
            int ascq = descriptor ? s[3] & 0xFF : s.length > 13 ? s[13] & 0xFF : 0;
            return String.format("CHECK %x %02x %02x", key, asc, ascq);
        }
        return "STATUS " + r.status();
    }

    // ---- FabricSession: the core's view of this initiator ----

    @Override
    public String initiatorName() {
        return initiator;
    }

    /** SPC-4 7.6.4 has no TransportID for this protocol; the name, as the iSCSI form carries it. */
    @Override
    public byte[] transportId() {
        byte[] name = initiator.getBytes(StandardCharsets.UTF_8);
        int len = (name.length + 1 + 3) & ~3; // NUL-terminated, padded to a multiple of 4
        byte[] id = new byte[4 + len];
        id[0] = 0x0F;
        id[2] = (byte) (len >> 8);
        id[3] = (byte) len;
        System.arraycopy(name, 0, id, 4, name.length);
        return id;
    }

    @Override
    public String initiatorPortName() {
        return initiator + ",line," + socket.getRemoteSocketAddress();
    }

    /** Called by the core (ACL or TPG removed), by the fabric (portal stopped, bundle stopping) or at the end. */
    @Override
    public void close() {
        ScsiSession s = session;
        session = null;
        if (s != null) {
            s.close(); // aborts what is in flight; its tasks get aborted()
        }
        LineFabric.closeQuietly(socket);
        onClose.accept(this);
    }
}
