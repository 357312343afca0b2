package org.jtarget.systests.wire;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small blocking iSCSI initiator for system tests (RFC 7143), independent of the target's own code: it writes
 * and reads the bytes of each PDU itself. No digests, one connection per session, one command at a time;
 * {@link #sendRaw} and {@link #receive} let a test send anything it likes (malformed PDUs, logins naming other
 * sessions). Every read has a deadline ({@code SO_TIMEOUT}), so a target that does not answer fails the test
 * instead of hanging it.
 */
public final class IscsiClient implements AutoCloseable {
    /** Text values of the operational stage: no digests, immediate data, small bursts. */
    public static final List<String> OPERATIONAL = List.of("HeaderDigest=None", "DataDigest=None",
            "ImmediateData=Yes", "InitialR2T=No", "MaxRecvDataSegmentLength=262144", "MaxBurstLength=262144",
            "FirstBurstLength=65536", "MaxConnections=1", "ErrorRecoveryLevel=0");

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private int itt = 1;
    private int cmdSn = 1;
    private int expStatSn;
    private int tsih;

    private IscsiClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    }

    /** Connects to {@code host:port}; reads wait at most {@code timeout}. */
    public static IscsiClient connect(String host, int port, Duration timeout) throws IOException {
        return connect(host, port, timeout, 0);
    }

    /** Like {@link #connect(String, int, Duration)} with a fixed socket receive buffer (bytes; 0: the system's). */
    public static IscsiClient connect(String host, int port, Duration timeout, int receiveBuffer) throws IOException {
        return connect(null, host, port, timeout, receiveBuffer);
    }

    /** Like {@link #connect(String, int, Duration)} from the local address {@code source} (e.g. 127.1.2.3). */
    public static IscsiClient connect(String source, String host, int port, Duration timeout) throws IOException {
        return connect(source, host, port, timeout, 0);
    }

    private static IscsiClient connect(String source, String host, int port, Duration timeout, int receiveBuffer)
            throws IOException {
        Socket socket = new Socket();
        if (source != null) {
            socket.bind(new InetSocketAddress(source, 0));
        }
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer); // before connect: no window scaling beyond it
        }
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
        socket.setSoTimeout((int) timeout.toMillis());
        return new IscsiClient(socket);
    }

    /** One PDU: its 48-byte basic header segment and its data segment (padding and AHS removed). */
    public record Pdu(byte[] bhs, byte[] data) {
        public int opcode() {
            return bhs[0] & 0x3f;
        }

        public int flags() {
            return bhs[1] & 0xff;
        }

        public int intAt(int offset) {
            return ByteBuffer.wrap(bhs).getInt(offset);
        }

        public int itt() {
            return intAt(16);
        }

        /** Login Response: Status-Class << 8 | Status-Detail (RFC 7143 §11.13.5). */
        public int loginStatus() {
            return (bhs[36] & 0xff) << 8 | (bhs[37] & 0xff);
        }

        public int tsih() {
            return ByteBuffer.wrap(bhs).getShort(14) & 0xffff;
        }

        /** SCSI Response / final Data-In: the SCSI status byte. */
        public int status() {
            return bhs[3] & 0xff;
        }

        public Map<String, String> keys() {
            Map<String, String> keys = new LinkedHashMap<>();
            for (String pair : new String(data, StandardCharsets.UTF_8).split("\0")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    keys.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            return keys;
        }

        @Override
        public String toString() {
            return "Pdu[opcode=0x" + Integer.toHexString(opcode()) + ", flags=0x" + Integer.toHexString(flags())
                    + ", itt=0x" + Integer.toHexString(itt()) + ", data=" + data.length + " bytes]";
        }
    }

    /** The result of a SCSI command: status, sense bytes (empty unless CHECK CONDITION), data read. */
    public record Result(int status, byte[] sense, byte[] data, int residual, int flags) {
        public boolean good() {
            return status == 0;
        }

        @Override
        public String toString() {
            return "Result[status=0x" + Integer.toHexString(status) + (sense.length > 0 ? ", sense key 0x"
                    + Integer.toHexString(senseKey()) + ", ASC/ASCQ 0x" + Integer.toHexString(ascq()) : "")
                    + ", data=" + data.length + " bytes, residual=" + residual + "]";
        }

        /** Sense key (fixed or descriptor format), or -1 without sense data. */
        public int senseKey() {
            if (sense.length < 3) {
                return -1;
            }
            return (sense[0] & 0x7f) >= 0x72 ? sense[1] & 0x0f : sense[2] & 0x0f;
        }

        /** ASC << 8 | ASCQ, or -1 without sense data. */
        public int ascq() {
            if ((sense[0] & 0x7f) >= 0x72) {
                return sense.length < 4 ? -1 : (sense[2] & 0xff) << 8 | (sense[3] & 0xff);
            }
            return sense.length < 14 ? -1 : (sense[12] & 0xff) << 8 | (sense[13] & 0xff);
        }
    }

    // ---- raw PDUs ----

    /** A BHS with the opcode byte (I bit included) and the data segment length filled in. */
    public static ByteBuffer bhs(int opcodeByte, int flags, int dataLength) {
        ByteBuffer b = ByteBuffer.allocate(48);
        b.put(0, (byte) opcodeByte);
        b.put(1, (byte) flags);
        b.putInt(4, dataLength & 0xffffff); // TotalAHSLength 0
        return b;
    }

    /** Sends a BHS and a data segment, padded to 4 bytes (RFC 7143 §11.1). */
    public void send(ByteBuffer bhs, byte[] data) throws IOException {
        sendRaw(frame(bhs, data));
    }

    /**
     * The bytes of one PDU: the BHS with its DataSegmentLength set to {@code data.length} (TotalAHSLength kept),
     * then the data padded to 4 bytes (§11.2.1.5). No AHS is added.
     */
    public static byte[] frame(ByteBuffer bhs, byte[] data) {
        byte[] header = bhs.array();
        ByteBuffer.wrap(header).putInt(4, (header[4] & 0xff) << 24 | data.length);
        byte[] pdu = new byte[48 + ((data.length + 3) & ~3)];
        System.arraycopy(header, 0, pdu, 0, 48);
        System.arraycopy(data, 0, pdu, 48, data.length);
        return pdu;
    }

    /** Sends bytes as they are. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads the next PDU; throws on timeout or when the target closed the connection. */
    public Pdu receive() throws IOException {
        byte[] bhs = new byte[48];
        in.readFully(bhs);
        int ahs = (bhs[4] & 0xff) * 4;
        int length = ByteBuffer.wrap(bhs).getInt(4) & 0xffffff;
        in.skipNBytes(ahs);
        byte[] data = new byte[length];
        in.readFully(data);
        in.skipNBytes((4 - (length & 3)) & 3);
        if ((bhs[0] & 0x3f) != 0x20 || ByteBuffer.wrap(bhs).getInt(16) != -1) {
            expStatSn = ByteBuffer.wrap(bhs).getInt(24) + 1; // NOP-In pings (ITT 0xffffffff) do not advance StatSN
        }
        return new Pdu(bhs, data);
    }

    /**
     * The next PDU if its first byte arrives within {@code wait}, else null; the stream stays in step either way
     * (the rest of a PDU whose first byte came is read with the connection's full timeout). Throws
     * {@link java.io.EOFException} when the target has closed the connection.
     */
    public Pdu poll(Duration wait) throws IOException {
        int timeout = socket.getSoTimeout();
        in.mark(1);
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        int first;
        try {
            first = in.read();
        } catch (java.net.SocketTimeoutException e) {
            return null;
        } finally {
            socket.setSoTimeout(timeout);
        }
        if (first < 0) {
            throw new java.io.EOFException("connection closed by the target");
        }
        in.reset();
        return receive();
    }

    /** Whether the target closed the connection: the next read sees end of stream (or a reset). */
    public boolean closedByTarget() {
        try {
            InputStream raw = in;
            return raw.read() < 0;
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException);
        }
    }

    // ---- login (RFC 7143 §6.3, §11.12) ----

    /** One Login Request with the given stage bits, ISID and TSIH; returns the Login Response. */
    public Pdu loginRequest(boolean transit, int csg, int nsg, long isid, int tsih, List<String> keys)
            throws IOException {
        ByteBuffer b = bhs(0x43, (transit ? 0x80 : 0) | csg << 2 | nsg, 0);
        b.putShort(8, (short) (isid >>> 32));
        b.putInt(10, (int) isid);
        b.putShort(14, (short) tsih);
        b.putInt(16, itt++);
        b.putShort(20, (short) 1); // CID
        b.putInt(24, cmdSn);
        b.putInt(28, expStatSn);
        send(b, text(keys));
        return expect(0x23);
    }

    /**
     * Logs in to {@code target} as {@code initiator} with AuthMethod None, through the security and operational
     * stages to the full feature phase. Returns the final Login Response; its {@link Pdu#loginStatus()} is 0 on
     * success (any other status ends the login there).
     */
    public Pdu login(String initiator, long isid, String target) throws IOException {
        List<String> keys = new ArrayList<>(List.of("InitiatorName=" + initiator, "SessionType=Normal",
                "TargetName=" + target, "AuthMethod=None"));
        Pdu security = loginRequest(true, 0, 1, isid, 0, keys);
        if (security.loginStatus() != 0) {
            return security;
        }
        Pdu last = loginRequest(true, 1, 3, isid, 0, OPERATIONAL);
        tsih = last.tsih();
        return last;
    }

    /**
     * Logs in like {@link #login} but with one-way CHAP (MD5, RFC 1994 §4.1: MD5(identifier || secret ||
     * challenge)). Returns the first Login Response with a non-zero status, or the final one.
     */
    public Pdu loginChap(String initiator, long isid, String target, String user, String secret)
            throws IOException {
        Pdu offer = loginRequest(false, 0, 1, isid, 0, List.of("InitiatorName=" + initiator, "SessionType=Normal",
                "TargetName=" + target, "AuthMethod=CHAP"));
        if (offer.loginStatus() != 0) {
            return offer;
        }
        Pdu challenge = loginRequest(false, 0, 1, isid, 0, List.of("CHAP_A=5"));
        if (challenge.loginStatus() != 0) {
            return challenge;
        }
        Map<String, String> keys = challenge.keys();
        String hexChallenge = keys.getOrDefault("CHAP_C", "0x").substring(2);
        byte[] response = chapResponse(Integer.parseInt(keys.getOrDefault("CHAP_I", "0")), secret,
                java.util.HexFormat.of().parseHex(hexChallenge));
        Pdu verdict = loginRequest(true, 0, 1, isid, 0, List.of("CHAP_N=" + user,
                "CHAP_R=0x" + java.util.HexFormat.of().formatHex(response)));
        if (verdict.loginStatus() != 0) {
            return verdict;
        }
        Pdu last = loginRequest(true, 1, 3, isid, 0, OPERATIONAL);
        tsih = last.tsih();
        return last;
    }

    /** The CHAP response to a challenge: MD5(identifier || secret || challenge) (RFC 1994 §4.1, CHAP_A=5). */
    public static byte[] chapResponse(int identifier, String secret, byte[] challenge) {
        try {
            java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
            md5.update((byte) identifier);
            md5.update(secret.getBytes(StandardCharsets.UTF_8));
            md5.update(challenge);
            return md5.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public int tsih() {
        return tsih;
    }

    /** The CmdSN the next non-immediate command gets (RFC 7143 §4.2.2.1); login does not advance it. */
    public int cmdSn() {
        return cmdSn;
    }

    /** The CmdSN for a non-immediate command the caller sends raw ({@link #send}); the next one gets the one after. */
    public int nextCmdSn() {
        return cmdSn++;
    }

    /** The StatSN after the last one received, sent as ExpStatSN (§4.2.2.2). */
    public int expStatSn() {
        return expStatSn;
    }

    // ---- full feature phase ----

    /** NOP-Out ping (immediate) and its NOP-In; returns the echoed data. */
    public byte[] ping(byte[] payload) throws IOException {
        ByteBuffer b = bhs(0x40, 0x80, 0);
        int tag = itt++;
        b.putInt(16, tag);
        b.putInt(20, -1);
        b.putInt(24, cmdSn);
        b.putInt(28, expStatSn);
        send(b, payload);
        Pdu answer = expect(0x20);
        if (answer.itt() != tag) {
            throw new IOException("NOP-In for ITT " + answer.itt() + " (expected: " + tag + ")");
        }
        return answer.data();
    }

    /**
     * Runs one SCSI command on {@code lun}: {@code readLength} bytes expected in, or {@code write} sent out (as
     * immediate data up to 64 KiB, the rest on R2T). Returns status, sense and the data read.
     */
    public Result command(int lun, byte[] cdb, int readLength, byte[] write) throws IOException {
        int tag = sendCommand(lun, cdb, readLength, write);
        java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
        while (true) {
            Pdu pdu = receive();
            switch (pdu.opcode()) {
                case 0x25 -> { // Data-In
                    read.write(pdu.data());
                    if ((pdu.flags() & 0x01) != 0) {
                        return new Result(pdu.status(), new byte[0], read.toByteArray(), pdu.intAt(44), pdu.flags());
                    }
                }
                case 0x31 -> sendDataOut(lun, tag, pdu, write); // R2T
                case 0x21 -> { // SCSI Response
                    byte[] sense = new byte[0];
                    if (pdu.data().length >= 2) {
                        int senseLength = ByteBuffer.wrap(pdu.data()).getShort(0) & 0xffff;
                        sense = java.util.Arrays.copyOfRange(pdu.data(), 2, 2 + senseLength);
                    }
                    return new Result(pdu.status(), sense, read.toByteArray(), pdu.intAt(44), pdu.flags());
                }
                case 0x20 -> { } // NOP-In ping from the target: ours to ignore (no answer wanted at ITT -1)
                default -> throw new IOException("unexpected " + pdu + " during a command");
            }
        }
    }

    private void sendDataOut(int lun, int tag, Pdu r2t, byte[] write) throws IOException {
        int offset = r2t.intAt(40);
        int length = r2t.intAt(44);
        int dataSn = 0;
        for (int done = 0; done < length; dataSn++) {
            int chunk = Math.min(65536, length - done);
            ByteBuffer b = bhs(0x05, done + chunk == length ? 0x80 : 0, 0);
            b.putShort(8, (short) (lun < 256 ? lun : 0x4000 | lun));
            b.putInt(16, tag);
            b.putInt(20, r2t.intAt(20));
            b.putInt(28, expStatSn);
            b.putInt(36, dataSn);
            b.putInt(40, offset + done);
            send(b, java.util.Arrays.copyOfRange(write, offset + done, offset + done + chunk));
            done += chunk;
        }
    }

    /**
     * Sends a SCSI command that reads {@code readLength} bytes (or none) without waiting for its answer, e.g. to
     * play an initiator that stops reading its socket. Returns its ITT.
     */
    public int sendCommand(int lun, byte[] cdb, int readLength) throws IOException {
        return sendCommand(lun, cdb, readLength, null);
    }

    /**
     * Sends a SCSI command that writes {@code write} (at most FirstBurstLength, 64 KiB: all of it immediate data)
     * without waiting for its answer. Returns its ITT.
     */
    public int sendWrite(int lun, byte[] cdb, byte[] write) throws IOException {
        if (write.length > 65536) {
            throw new IllegalArgumentException("write: " + write.length + " bytes (expected: at most 65536)");
        }
        return sendCommand(lun, cdb, 0, write);
    }

    private int sendCommand(int lun, byte[] cdb, int readLength, byte[] write) throws IOException {
        boolean writing = write != null && write.length > 0;
        int edtl = writing ? write.length : readLength;
        ByteBuffer b = bhs(0x01, 0x80 | (readLength > 0 ? 0x40 : 0) | (writing ? 0x20 : 0) | 1, 0);
        b.putShort(8, (short) (lun < 256 ? lun : 0x4000 | lun)); // SAM LUN, peripheral or flat addressing
        int tag = itt++;
        b.putInt(16, tag);
        b.putInt(20, edtl);
        b.putInt(24, cmdSn++);
        b.putInt(28, expStatSn);
        b.position(32);
        b.put(cdb, 0, Math.min(cdb.length, 16));
        int immediate = writing ? Math.min(write.length, 65536) : 0;
        send(b, writing ? java.util.Arrays.copyOf(write, immediate) : new byte[0]);
        return tag;
    }

    /**
     * TEST UNIT READY until it answers GOOD (at most 4 tries): a new I_T nexus first gets the unit attention
     * POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (SAM-5 §5.14, SPC-4 29h/00h). Returns the last result.
     */
    public Result testUnitReady(int lun) throws IOException {
        Result r = null;
        for (int i = 0; i < 4 && (r == null || !r.good()); i++) {
            r = command(lun, new byte[6], 0, null);
        }
        return r;
    }

    /** READ(10) of {@code blocks} blocks of {@code blockSize} bytes at {@code lba}. */
    public Result read10(int lun, int lba, int blocks, int blockSize) throws IOException {
        return command(lun, cdb10(0x28, lba, blocks, 0), blocks * blockSize, null);
    }

    /** WRITE(10) of {@code data} (a whole number of blocks) at {@code lba}, with FUA when asked. */
    public Result write10(int lun, int lba, byte[] data, int blockSize, boolean fua) throws IOException {
        return command(lun, cdb10(0x2a, lba, data.length / blockSize, fua ? 0x08 : 0), 0, data);
    }

    public static byte[] cdb10(int opcode, int lba, int blocks, int byte1) {
        return new byte[] {(byte) opcode, (byte) byte1, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8),
                (byte) lba, 0, (byte) (blocks >> 8), (byte) blocks, 0};
    }

    /** Logout (close the session) and its response; the target then closes the connection. */
    public void logout() throws IOException {
        ByteBuffer b = bhs(0x46, 0x80, 0);
        b.putInt(16, itt++);
        b.putInt(24, cmdSn);
        b.putInt(28, expStatSn);
        send(b, new byte[0]);
        expect(0x26);
    }

    private Pdu expect(int opcode) throws IOException {
        while (true) {
            Pdu pdu = receive();
            if (pdu.opcode() == opcode) {
                return pdu;
            }
            if (pdu.opcode() != 0x20) { // skip target NOP-In pings
                throw new IOException("got " + pdu + " (expected: opcode 0x" + Integer.toHexString(opcode) + ")");
            }
        }
    }

    public static byte[] text(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        keys.forEach(k -> sb.append(k).append('\0'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Closes the connection with a TCP reset instead of a FIN (SO_LINGER 0): a peer that vanishes. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
