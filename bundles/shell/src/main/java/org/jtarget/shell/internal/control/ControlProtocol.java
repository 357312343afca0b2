package org.jtarget.shell.internal.control;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The exec channel's framing, shared by {@link ControlServer} and {@link ExecClient} (no OSGi or Gogo
 * types here: the client runs on a bare JVM).
 *
 * <pre>
 * frame   = type:u8  length:u32 (big-endian)  payload:length bytes
 *
 * client → server   one REQUEST frame: the Gogo command line, UTF-8
 * server → client   any number of STDOUT and STDERR frames (raw output bytes, in the order written),
 *                   then one EXIT frame (payload: the exit status as a big-endian s32), then close
 * </pre>
 *
 * A connection carries one command. The socket is {@code <home>/run/control.sock}, mode 0600 in a 0700
 * folder: whoever can connect is the instance's owner.
 */
public final class ControlProtocol {
    public static final byte REQUEST = 'C';
    public static final byte STDOUT = 'O';
    public static final byte STDERR = 'E';
    public static final byte EXIT = 'X';

    /** The command ran and returned. */
    public static final int STATUS_OK = 0;
    /** The command failed: its message is on stderr. */
    public static final int STATUS_FAILED = 1;
    /** No instance serves that home (no socket, or nobody listens on it). */
    public static final int STATUS_NO_INSTANCE = 2;
    /** The connection broke or the peer spoke something else. */
    public static final int STATUS_PROTOCOL = 3;
    /** The client was called wrongly (BSD sysexits EX_USAGE). */
    public static final int STATUS_USAGE = 64;

    /** Largest request accepted: a command line, not a file. */
    public static final int MAX_REQUEST = 1 << 20;
    /** Largest output frame the server sends (output is split). */
    public static final int MAX_CHUNK = 1 << 16;

    private ControlProtocol() {
    }

    /** Where an instance with this home listens. */
    public static Path socketPath(Path home) {
        return home.resolve("run").resolve("control.sock");
    }

    /** Longest Unix-domain socket path the kernel takes (sun_path is 108 bytes with its NUL, unix(7)). */
    static final int MAX_SOCKET_PATH = 107;

    /**
     * The address to bind or connect to for {@code home}: relative ({@code run/control.sock}) when the working
     * directory is the home, as it is for the instance and for {@code bin/jtarget exec}, so that a home of any
     * length works; otherwise the absolute path.
     *
     * @throws IOException when only the absolute path would do and it is longer than the kernel allows
     */
    public static UnixDomainSocketAddress address(Path home) throws IOException {
        Path socket = socketPath(home);
        try {
            if (Files.isSameFile(Path.of("").toAbsolutePath(), home)) {
                return UnixDomainSocketAddress.of(Path.of("run", "control.sock"));
            }
        } catch (IOException e) {
            // the home does not exist (yet): fall back to the absolute path
        }
        int length = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_SOCKET_PATH) {
            throw new IOException("the control socket path " + socket + " is " + length
                    + " bytes (expected: at most " + MAX_SOCKET_PATH + " for a Unix socket); run from the home"
                    + " directory or choose a shorter home");
        }
        return UnixDomainSocketAddress.of(socket);
    }

    public static void writeFrame(OutputStream out, byte type, byte[] payload, int offset, int length)
            throws IOException {
        byte[] header = {type, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
        out.write(header);
        out.write(payload, offset, length);
    }

    public static void writeExit(OutputStream out, int status) throws IOException {
        byte[] payload = {(byte) (status >>> 24), (byte) (status >>> 16), (byte) (status >>> 8), (byte) status};
        writeFrame(out, EXIT, payload, 0, payload.length);
    }

    /** A received frame. */
    public record Frame(byte type, byte[] payload) {
        public int status() {
            if (payload.length != 4) {
                throw new IllegalStateException("exit frame length: " + payload.length + " (expected: 4)");
            }
            return ((payload[0] & 0xff) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8)
                    | (payload[3] & 0xff);
        }
    }

    /**
     * Reads one frame.
     *
     * @return the frame, or null at a clean end of stream (before any byte of a frame)
     * @throws IOException on a truncated frame or one longer than {@code maxLength}
     */
    public static Frame readFrame(InputStream in, int maxLength) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        byte[] len = in.readNBytes(4);
        if (len.length < 4) {
            throw new EOFException("frame header: " + (1 + len.length) + " bytes (expected: 5)");
        }
        int length = ((len[0] & 0xff) << 24) | ((len[1] & 0xff) << 16) | ((len[2] & 0xff) << 8) | (len[3] & 0xff);
        if (length < 0 || length > maxLength) {
            throw new IOException("frame length: " + Integer.toUnsignedString(length) + " (expected: <= " + maxLength + ")");
        }
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new EOFException("frame payload: " + payload.length + " bytes (expected: " + length + ")");
        }
        return new Frame((byte) type, payload);
    }
}
