package org.jtarget.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/** An NBD client speaking to {@link NbdConnection} over an EmbeddedChannel with real socket addresses. */
final class Client implements AutoCloseable {
    /** EmbeddedChannel with an InetSocketAddress on each side. */
    static final class Channel extends EmbeddedChannel {
        private final InetSocketAddress remote;

        Channel(InetSocketAddress remote) {
            super(false, false);
            this.remote = remote;
        }

        @Override
        protected SocketAddress localAddress0() {
            return new InetSocketAddress("127.0.0.1", 10809);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }
    }

    final Channel ch;
    private final ByteBuf in = Unpooled.buffer();

    Client(FakeCore core, String remoteHost) {
        this(core, remoteHost, new Handshakes());
    }

    Client(FakeCore core, String remoteHost, Handshakes handshakes) {
        ch = new Channel(new InetSocketAddress(remoteHost, 40000));
        ch.pipeline().addLast(new NbdConnection(core, "nbd", handshakes));
        try {
            ch.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    Client(FakeCore core) {
        this(core, "127.0.0.1");
    }

    /** Reads the greeting and sends the client flags (FIXED_NEWSTYLE | NO_ZEROES). */
    Client handshake() {
        ByteBuf g = take(18);
        assertEquals(Nbd.INIT_MAGIC, g.readLong());
        assertEquals(Nbd.IHAVEOPT, g.readLong());
        assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, g.readUnsignedShort());
        send(Unpooled.buffer().writeInt(3));
        return this;
    }

    void send(ByteBuf b) {
        ch.writeInbound(b);
        ch.runPendingTasks();
    }

    void option(int option, ByteBuf data) {
        ByteBuf b = Unpooled.buffer().writeLong(Nbd.IHAVEOPT).writeInt(option).writeInt(data.readableBytes()).writeBytes(data);
        data.release();
        send(b);
    }

    static ByteBuf nameAndRequests(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer().writeInt(n.length).writeBytes(n).writeShort(infos.length);
        for (int i : infos) {
            b.writeShort(i);
        }
        return b;
    }

    /** An option reply: [type, data] with the option checked. */
    record Reply(int type, ByteBuf data) {
    }

    Reply reply(int option) {
        ByteBuf h = take(20);
        assertEquals(Nbd.OPTION_REPLY_MAGIC, h.readLong());
        assertEquals(option, h.readInt());
        int type = h.readInt();
        return new Reply(type, take(h.readInt()));
    }

    /** NBD_OPT_GO for {@code name}; returns the export size and transmission flags, after the ACK. */
    long[] go(String name) {
        option(Nbd.OPT_GO, nameAndRequests(name, Nbd.INFO_BLOCK_SIZE));
        long size = -1;
        int flags = -1;
        for (Reply r = reply(Nbd.OPT_GO); r.type() != Nbd.REP_ACK; r = reply(Nbd.OPT_GO)) {
            assertEquals(Nbd.REP_INFO, r.type(), "GO reply type");
            if (r.data().readUnsignedShort() == Nbd.INFO_EXPORT) {
                size = r.data().readLong();
                flags = r.data().readUnsignedShort();
            }
        }
        return new long[] {size, flags};
    }

    void request(int type, int flags, long handle, long offset, int length, byte[] payload) {
        ByteBuf b = Unpooled.buffer().writeInt(Nbd.REQUEST_MAGIC).writeShort(flags).writeShort(type).writeLong(handle)
                .writeLong(offset).writeInt(length);
        if (payload != null) {
            b.writeBytes(payload);
        }
        send(b);
    }

    /** A simple reply: its error, with the handle checked; {@code data} bytes of a read follow. */
    int simpleReply(long handle) {
        ByteBuf h = take(16);
        assertEquals(Nbd.SIMPLE_REPLY_MAGIC, h.readInt());
        int error = h.readInt();
        assertEquals(handle, h.readLong());
        return error;
    }

    /** A structured chunk: [flags, type, payload]. */
    record Chunk(int flags, int type, ByteBuf payload) {
    }

    Chunk chunk(long handle) {
        ByteBuf h = take(20);
        assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.readInt());
        int flags = h.readUnsignedShort();
        int type = h.readUnsignedShort();
        assertEquals(handle, h.readLong());
        return new Chunk(flags, type, take(h.readInt()));
    }

    /** The next {@code n} bytes the server sent (a copy; the server's buffers are released). */
    ByteBuf take(int n) {
        ch.runPendingTasks();
        for (Object o; in.readableBytes() < n && (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            in.writeBytes(b);
            b.release();
        }
        assertTrue(in.readableBytes() >= n, "server sent " + in.readableBytes() + " bytes (expected: >= " + n + ")");
        return in.readSlice(n);
    }

    /** Bytes the server sent that nobody read yet. */
    int pending() {
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            in.writeBytes(b);
            b.release();
        }
        return in.readableBytes();
    }

    @Override
    public void close() {
        ch.finishAndReleaseAll();
        in.release();
    }
}
