package org.jtarget.backstore.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.jtarget.spi.backstore.Extent;
import org.junit.jupiter.api.Test;

/**
 * The reply decoder against what a broken or hostile server may send: replies to a burst of requests, valid
 * (simple and structured, chunks in any order), then mutated (bytes flipped, cut, inserted, a piece repeated)
 * and fed in pieces of random size. Whatever arrives: nothing is thrown out of the pipeline, every request
 * completes (answered, or handed back when the connection ends), a valid stream gives exactly the data sent, and
 * every buffer is released. Bounded: a fixed number of rounds from fixed seeds.
 */
class NbdReplyFuzzTest {
    private static final int ROUNDS = 600;
    private static final int BLOCK = 512;

    /** Hands out unpooled buffers and remembers them, so that the test can tell whether each was released. */
    static final class Tracking extends AbstractByteBufAllocator {
        final List<ByteBuf> made = Collections.synchronizedList(new ArrayList<>());

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    /** A request of the round and what a correct reply makes of it. */
    private record Sent(Request<?> request, byte[] data, Extent extent) {
    }

    @Test
    void whateverTheServerSendsEveryRequestCompletesAndEveryBufferIsReleased() {
        int valid = 0;
        int answered = 0;
        int failed = 0;
        int closedEarly = 0; // rounds whose connection the client ended before the stream did
        for (int round = 0; round < ROUNDS; round++) {
            Random random = new Random(round);
            boolean mutate = round % 4 != 0; // a quarter of the rounds stay valid: the oracle checks them whole
            Tracking alloc = new Tracking();
            Export export = new Export(1 << 20, Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH, 1, 4096,
                    Export.DEFAULT_MAX_PAYLOAD, true, 1, true);
            NbdConnection connection = new NbdConnection(export, "fuzz", 60_000);
            List<Request<?>> handedBack = new ArrayList<>();
            connection.onLost((c, unanswered) -> handedBack.addAll(unanswered));
            EmbeddedChannel channel = new EmbeddedChannel();
            channel.config().setAllocator(alloc);
            channel.pipeline().addLast(connection);

            List<Sent> sent = new ArrayList<>();
            int requests = 1 + random.nextInt(8);
            for (int i = 0; i < requests; i++) {
                sent.add(request(random, alloc));
                connection.send(sent.get(i).request());
            }
            channel.runPendingTasks();
            long[] handles = handles(channel, requests);

            byte[] stream = replies(random, sent, handles);
            if (mutate) {
                stream = mutated(random, stream);
            }
            String what = "round " + round + (mutate ? " (mutated)" : " (valid)");
            try {
                int at = 0;
                while (at < stream.length && channel.isActive()) {
                    int n = Math.min(stream.length - at, 1 + random.nextInt(random.nextBoolean() ? 16 : 4096));
                    ByteBuf piece = alloc.heapBuffer(n).writeBytes(stream, at, n);
                    channel.writeInbound(piece);
                    at += n;
                }
                if (!channel.isActive()) {
                    closedEarly++;
                }
                channel.close();
                channel.runPendingTasks();
            } catch (RuntimeException e) {
                throw new AssertionError(what + ": thrown out of the pipeline", e);
            }
            for (Request<?> r : handedBack) {
                r.fail(new java.io.IOException("connection lost")); // what the backstore does after its retries
            }
            for (int i = 0; i < requests; i++) {
                Sent s = sent.get(i);
                Request<?> r = s.request();
                assertTrue(r.future.isDone(), what + ": request " + i + " (" + Nbd.commandName(r.type) + ") never completed");
                if (!r.future.isCompletedExceptionally()) {
                    answered++;
                    Object result = r.future.join();
                    if (result instanceof ByteBuf b) {
                        if (!mutate) {
                            assertArrayEquals(s.data(), bytes(b), what + ": request " + i);
                        }
                        b.release();
                    } else if (!mutate && s.extent() != null) {
                        assertEquals(s.extent(), result, what + ": request " + i);
                    }
                } else if (mutate) {
                    failed++;
                } else {
                    try {
                        r.future.join();
                    } catch (java.util.concurrent.CompletionException e) {
                        fail(what + ": request " + i + " failed: " + e.getCause());
                    }
                }
            }
            if (!mutate) {
                valid++;
            }
            synchronized (alloc.made) {
                for (ByteBuf b : alloc.made) {
                    assertEquals(0, b.refCnt(), what + ": a buffer was not released");
                }
            }
        }
        assertEquals(ROUNDS / 4, valid);
        String stats = answered + " requests answered, " + failed + " failed, " + closedEarly + " connections ended by the client";
        System.out.println("NbdReplyFuzzTest: " + ROUNDS + " rounds: " + stats);
        // the mutations reach the decoder's checks, and leave many requests intact: a fuzz that tests something
        assertTrue(answered > ROUNDS && failed > ROUNDS / 4 && closedEarly > ROUNDS / 4, stats);
    }

    private static Sent request(Random random, Tracking alloc) {
        long offset = (long) random.nextInt(1024) * BLOCK;
        int length = BLOCK * (1 + random.nextInt(16));
        switch (random.nextInt(5)) {
            case 0, 1 -> {
                byte[] data = new byte[length];
                random.nextBytes(data);
                return new Sent(new Request<ByteBuf>(Nbd.CMD_READ, 0, offset, length, null, alloc, BLOCK, -1), data, null);
            }
            case 2 -> {
                ByteBuf data = alloc.heapBuffer(length).writeZero(length);
                return new Sent(new Request<Void>(Nbd.CMD_WRITE, 0, offset, length, data, alloc, BLOCK, -1), null, null);
            }
            case 3 -> {
                return new Sent(new Request<Void>(Nbd.CMD_FLUSH, 0, 0, 0, null, null, BLOCK, -1), null, null);
            }
            default -> {
                boolean hole = random.nextBoolean();
                int blocks = 1 + random.nextInt(length / BLOCK);
                return new Sent(new Request<Extent>(Nbd.CMD_BLOCK_STATUS, Nbd.CMD_FLAG_REQ_ONE, offset, length, null,
                        null, BLOCK, 1), null, new Extent(blocks, !hole));
            }
        }
    }

    /** The handles the connection gave the requests, from the request headers it wrote. */
    private static long[] handles(EmbeddedChannel channel, int requests) {
        long[] handles = new long[requests];
        int i = 0;
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            try {
                if (out.readableBytes() >= Nbd.REQUEST_HEADER && out.getInt(out.readerIndex()) == Nbd.REQUEST_MAGIC) {
                    handles[i++] = out.getLong(out.readerIndex() + 8);
                }
            } finally {
                out.release();
            }
        }
        assertEquals(requests, i, "request headers written");
        return handles;
    }

    /** Correct replies to every request, in a random order, each in one of the forms the protocol allows. */
    private static byte[] replies(Random random, List<Sent> sent, long[] handles) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i : order) {
            Request<?> r = sent.get(i).request();
            long h = handles[i];
            if (r.type == Nbd.CMD_READ) {
                byte[] data = sent.get(i).data();
                if (random.nextBoolean()) {
                    simple(out, h, data);
                } else {
                    structuredRead(random, out, h, r.offset, data);
                }
            } else if (r.type == Nbd.CMD_BLOCK_STATUS) {
                Extent e = sent.get(i).extent();
                chunk(out, h, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, ByteBuffer.allocate(12).putInt(1)
                        .putInt((int) (e.blocks() * BLOCK)).putInt(e.mapped() ? 0 : Nbd.STATE_HOLE).array());
            } else if (random.nextBoolean()) {
                simple(out, h, new byte[0]);
            } else {
                chunk(out, h, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, new byte[0]);
            }
        }
        return out.toByteArray();
    }

    /** The read's data as 1 to 3 chunks (data, or a hole where the data are zeros) in a random order. */
    private static void structuredRead(Random random, ByteArrayOutputStream out, long h, long offset, byte[] data) {
        int blocks = data.length / BLOCK;
        int pieces = Math.min(blocks, 1 + random.nextInt(3));
        List<int[]> ranges = new ArrayList<>();
        int start = 0;
        for (int p = 0; p < pieces; p++) {
            int end = p == pieces - 1 ? data.length : start + BLOCK * (1 + random.nextInt(blocks - (start / BLOCK) - (pieces - p - 1)));
            ranges.add(new int[] {start, end});
            start = end;
        }
        Collections.shuffle(ranges, random);
        boolean doneApart = random.nextBoolean(); // DONE on the last data chunk, or on a NONE chunk after it
        for (int p = 0; p < ranges.size(); p++) {
            int[] range = ranges.get(p);
            int flags = !doneApart && p == ranges.size() - 1 ? Nbd.REPLY_FLAG_DONE : 0;
            int n = range[1] - range[0];
            if (random.nextInt(4) == 0) {
                java.util.Arrays.fill(data, range[0], range[1], (byte) 0); // what the client must read: zeros
                chunk(out, h, flags, Nbd.REPLY_TYPE_OFFSET_HOLE, ByteBuffer.allocate(12).putLong(offset + range[0])
                        .putInt(n).array());
            } else {
                chunk(out, h, flags, Nbd.REPLY_TYPE_OFFSET_DATA, ByteBuffer.allocate(8 + n).putLong(offset + range[0])
                        .put(data, range[0], n).array());
            }
        }
        if (doneApart) {
            chunk(out, h, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, new byte[0]);
        }
    }

    private static void simple(ByteArrayOutputStream out, long handle, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(0).putLong(handle).array());
        out.writeBytes(data);
    }

    private static void chunk(ByteArrayOutputStream out, long handle, int flags, int type, byte[] payload) {
        out.writeBytes(ByteBuffer.allocate(20).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(handle).putInt(payload.length).array());
        out.writeBytes(payload);
    }

    /**
     * One to three mutations: bytes flipped, the stream cut, random bytes inserted, a piece of it repeated (also used
     * by {@link NbdHandshakeFuzzTest}).
     */
    static byte[] mutated(Random random, byte[] stream) {
        byte[] s = stream;
        for (int m = 1 + random.nextInt(3); m > 0 && s.length > 0; m--) {
            int at = random.nextInt(s.length);
            switch (random.nextInt(4)) {
                case 0 -> {
                    s = s.clone();
                    for (int k = 1 + random.nextInt(4); k > 0; k--) {
                        // header fields matter most: flip within the first 20 bytes of some reply as often as anywhere
                        int i = random.nextBoolean() ? at : Math.min(s.length - 1, at - at % 16 + random.nextInt(20));
                        s[i] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 1 -> s = java.util.Arrays.copyOf(s, at);
                case 2 -> {
                    byte[] junk = new byte[1 + random.nextInt(24)];
                    random.nextBytes(junk);
                    s = splice(s, at, junk);
                }
                default -> {
                    int n = Math.min(s.length - at, 1 + random.nextInt(64));
                    s = splice(s, at, java.util.Arrays.copyOfRange(s, at, at + n));
                }
            }
        }
        return s;
    }

    static byte[] splice(byte[] s, int at, byte[] inserted) {
        byte[] r = new byte[s.length + inserted.length];
        System.arraycopy(s, 0, r, 0, at);
        System.arraycopy(inserted, 0, r, at, inserted.length);
        System.arraycopy(s, at, r, at + inserted.length, s.length - at);
        return r;
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }
}
