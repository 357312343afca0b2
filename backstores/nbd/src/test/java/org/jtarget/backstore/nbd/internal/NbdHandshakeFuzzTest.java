package org.jtarget.backstore.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.Test;

/**
 * The handshake against what a broken or hostile server may send: the answers of a valid server (with or
 * without structured replies and block status, NBD_OPT_GO or the NBD_OPT_EXPORT_NAME fallback, with or without
 * block size constraints), then mutated ({@link NbdReplyFuzzTest#mutated}) and fed in pieces of random size.
 * Whatever arrives, the open ends, as an export or as a {@link BackstoreException} that says why, nothing is thrown
 * out of the pipeline and every buffer is released; a valid stream gives the export the server described.
 */
class NbdHandshakeFuzzTest {
    private static final int ROUNDS = 600;

    /** What the server of a round says about its export, and how it answers the options. */
    private record Server(boolean structured, boolean meta, boolean go, boolean blockSize, boolean noZeroes, long size,
                          int flags) {
        static Server random(Random r) {
            return new Server(r.nextBoolean(), r.nextBoolean(), r.nextInt(4) != 0, r.nextBoolean(), r.nextBoolean(),
                    512L * (1 + r.nextInt(1 << 20)), Nbd.FLAG_HAS_FLAGS | (r.nextBoolean() ? Nbd.FLAG_SEND_FLUSH : 0));
        }

        /** Everything the server sends, in order: the client asks in a fixed order, so the answers can be written at once. */
        byte[] stream() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT)
                    .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | (noZeroes ? Nbd.FLAG_NO_ZEROES : 0))).array());
            reply(out, Nbd.OPT_STRUCTURED_REPLY, structured ? Nbd.REP_ACK : Nbd.REP_ERR_UNSUP, new byte[0]);
            if (structured) {
                if (meta) {
                    byte[] name = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
                    reply(out, Nbd.OPT_SET_META_CONTEXT, Nbd.REP_META_CONTEXT,
                            ByteBuffer.allocate(4 + name.length).putInt(7).put(name).array());
                    reply(out, Nbd.OPT_SET_META_CONTEXT, Nbd.REP_ACK, new byte[0]);
                } else {
                    reply(out, Nbd.OPT_SET_META_CONTEXT, Nbd.REP_ERR_UNSUP, new byte[0]);
                }
            }
            if (go) {
                if (blockSize) {
                    reply(out, Nbd.OPT_GO, Nbd.REP_INFO, ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE)
                            .putInt(512).putInt(4096).putInt(1 << 20).array());
                }
                reply(out, Nbd.OPT_GO, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT)
                        .putLong(size).putShort((short) flags).array());
                reply(out, Nbd.OPT_GO, Nbd.REP_ACK, new byte[0]);
            } else { // an old server: NBD_OPT_GO unknown, then the export's size and flags after NBD_OPT_EXPORT_NAME
                reply(out, Nbd.OPT_GO, Nbd.REP_ERR_UNSUP, new byte[0]);
                out.writeBytes(ByteBuffer.allocate(noZeroes ? 10 : 134).putLong(size).putShort((short) flags).array());
            }
            return out.toByteArray();
        }

        private static void reply(ByteArrayOutputStream out, int option, int type, byte[] data) {
            out.writeBytes(ByteBuffer.allocate(20).putLong(Nbd.OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                    .putInt(data.length).array());
            out.writeBytes(data);
        }
    }

    @Test
    void whateverTheServerSaysTheOpenEndsWithAnExportOrAReason() {
        int opened = 0;
        int refused = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Random random = new Random(round);
            boolean mutate = round % 4 != 0;
            Server server = Server.random(random);
            byte[] stream = server.stream();
            if (mutate) {
                stream = NbdReplyFuzzTest.mutated(random, stream);
            }
            String what = "round " + round + (mutate ? " (mutated)" : " (valid) " + server);
            NbdReplyFuzzTest.Tracking alloc = new NbdReplyFuzzTest.Tracking();
            Handshake handshake = new Handshake("", 60_000, export -> new ChannelInboundHandlerAdapter());
            EmbeddedChannel channel = new EmbeddedChannel();
            channel.config().setAllocator(alloc);
            channel.pipeline().addLast("nbd-handshake", handshake);
            try {
                int at = 0;
                while (at < stream.length && channel.isActive()) {
                    int n = Math.min(stream.length - at, 1 + random.nextInt(random.nextBoolean() ? 8 : 256));
                    channel.writeInbound(alloc.heapBuffer(n).writeBytes(stream, at, n));
                    channel.releaseOutbound(); // the client's flags and options
                    at += n;
                }
                channel.finishAndReleaseAll(); // closes: a handshake still waiting learns the server is gone
            } catch (RuntimeException e) {
                throw new AssertionError(what + ": thrown out of the pipeline", e);
            }
            assertTrue(handshake.result.isDone(), what + ": the open never ended");
            try {
                Export e = handshake.result.join();
                opened++;
                if (!mutate) {
                    assertEquals(server.size(), e.size(), what);
                    assertEquals(server.flags(), e.flags(), what);
                    assertEquals(server.structured(), e.structured(), what);
                    assertEquals(server.structured() && server.meta() ? 7 : -1, e.allocationContext(), what);
                    assertEquals(server.go(), e.viaGo(), what);
                    assertEquals(server.go() && server.blockSize() ? 1 << 20 : Export.DEFAULT_MAX_PAYLOAD, e.maxPayload(), what);
                }
            } catch (CompletionException x) {
                refused++;
                assertFalse(!mutate, what + ": refused: " + x.getCause());
                BackstoreException b = assertInstanceOf(BackstoreException.class, x.getCause(), what);
                assertFalse(b.getMessage() == null || b.getMessage().isBlank(), what + ": a refusal without a reason");
            }
            synchronized (alloc.made) {
                for (ByteBuf b : alloc.made) {
                    assertEquals(0, b.refCnt(), what + ": a buffer was not released");
                }
            }
        }
        String stats = opened + " opened, " + refused + " refused";
        System.out.println("NbdHandshakeFuzzTest: " + ROUNDS + " rounds: " + stats);
        assertTrue(opened > ROUNDS / 4 && refused > ROUNDS / 4, stats);
    }
}
