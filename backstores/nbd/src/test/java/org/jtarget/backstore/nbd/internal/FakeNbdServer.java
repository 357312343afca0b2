package org.jtarget.backstore.nbd.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A scripted NBD server on 127.0.0.1 for protocol tests: each accepted connection runs {@code script} on a
 * thread of its own with blocking streams. Helpers write the wire formats of proto.md.
 */
final class FakeNbdServer implements AutoCloseable {
    interface Script {
        void run(Conn c) throws IOException;
    }

    /** One accepted connection. */
    static final class Conn {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = new DataOutputStream(socket.getOutputStream());
        }

        /** Greeting of a fixed newstyle server; returns the client's flags. */
        int greet() throws IOException {
            out.writeLong(Nbd.NBDMAGIC);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
            out.flush();
            return in.readInt();
        }

        Option option() throws IOException {
            long magic = in.readLong();
            if (magic != Nbd.IHAVEOPT) {
                throw new IOException("bad option magic " + Long.toHexString(magic));
            }
            int option = in.readInt();
            byte[] data = new byte[in.readInt()];
            in.readFully(data);
            return new Option(option, data);
        }

        void reply(int option, int type, byte[] data) throws IOException {
            out.writeLong(Nbd.OPTION_REPLY_MAGIC);
            out.writeInt(option);
            out.writeInt(type);
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        }

        /** NBD_REP_INFO NBD_INFO_EXPORT then NBD_REP_ACK: the end of a successful NBD_OPT_GO. */
        void go(long size, int flags) throws IOException {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12);
            b.putShort((short) Nbd.INFO_EXPORT).putLong(size).putShort((short) flags);
            reply(Nbd.OPT_GO, Nbd.REP_INFO, b.array());
            reply(Nbd.OPT_GO, Nbd.REP_ACK, new byte[0]);
        }

        /**
         * A server that knows structured replies (when {@code structured}) and NBD_OPT_GO, without meta
         * contexts: answers options until GO.
         */
        void negotiate(long size, int flags, boolean structured) throws IOException {
            greet();
            while (true) {
                Option o = option();
                if (o.option == Nbd.OPT_STRUCTURED_REPLY && structured) {
                    reply(o.option, Nbd.REP_ACK, new byte[0]);
                } else if (o.option == Nbd.OPT_GO) {
                    go(size, flags | Nbd.FLAG_HAS_FLAGS);
                    return;
                } else {
                    reply(o.option, Nbd.REP_ERR_UNSUP, new byte[0]);
                }
            }
        }

        /** The next request; NBD_CMD_DISC ends the script (an EOFException closes the connection). */
        Req request() throws IOException {
            int magic = in.readInt();
            if (magic != Nbd.REQUEST_MAGIC) {
                throw new IOException("bad request magic " + Integer.toHexString(magic));
            }
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long handle = in.readLong();
            long offset = in.readLong();
            int length = in.readInt();
            if (type == Nbd.CMD_DISC) {
                throw new EOFException("NBD_CMD_DISC"); // the client is done: the script ends, the socket closes
            }
            byte[] data = new byte[type == Nbd.CMD_WRITE ? length : 0];
            in.readFully(data);
            return new Req(flags, type, handle, offset, length, data);
        }

        void simple(long handle, int error, byte[] data) throws IOException {
            out.writeInt(Nbd.SIMPLE_REPLY_MAGIC);
            out.writeInt(error);
            out.writeLong(handle);
            out.write(data);
            out.flush();
        }

        void chunk(long handle, int flags, int type, byte[] payload) throws IOException {
            out.writeInt(Nbd.STRUCTURED_REPLY_MAGIC);
            out.writeShort(flags);
            out.writeShort(type);
            out.writeLong(handle);
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
        }
    }

    record Option(int option, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    record Req(int flags, int type, long handle, long offset, int length, byte[] data) {
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    /** Failures of scripts (assertion errors, unexpected bytes), for the test to check. */
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    volatile int accepted;

    FakeNbdServer(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return;
                }
                synchronized (sockets) {
                    sockets.add(s);
                }
                accepted++;
                Thread t = new Thread(() -> {
                    try (s) {
                        script.run(new Conn(s));
                    } catch (EOFException | SocketException e) {
                        // the client went away
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "fake-nbd-conn");
                t.setDaemon(true);
                t.start();
            }
        }, "fake-nbd-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + port() + "/" + export;
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
