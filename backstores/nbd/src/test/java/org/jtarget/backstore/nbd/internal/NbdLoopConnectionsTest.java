package org.jtarget.backstore.nbd.internal;

import static org.jtarget.backstore.nbd.internal.NbdProtocolTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jtarget.spi.backstore.BackstoreContext;
import org.junit.jupiter.api.Test;

/**
 * Calls made on a Netty event loop of another bundle (as the iSCSI fabric makes them) go on a connection
 * registered on that loop: the reply completes them on the caller's own thread.
 */
class NbdLoopConnectionsTest extends ClientFixture {
    private final NioEventLoopGroup callers = new NioEventLoopGroup(1, new DefaultThreadFactory("caller-io", true));
    private final EventLoop caller = callers.next();
    private final Thread callerThread;

    NbdLoopConnectionsTest() throws Exception {
        super(1, 3000, 30_000, 10_000);
        cleanup.add(() -> callers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        callerThread = caller.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
    }

    private NbdBackstore open(String uri, String connections) throws Exception {
        NbdBackstore b = (NbdBackstore) provider.open(new BackstoreContext("l1", Map.of("uri", uri, "connections", connections), dir))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        cleanup.add(() -> b.close().toCompletableFuture().get(10, TimeUnit.SECONDS));
        return b;
    }

    /** Result of a call made on the caller's loop, and the thread its stage completed on. */
    private record Call<T>(CompletableFuture<T> result, CompletableFuture<Thread> completedOn) {
        T get() throws Exception {
            return result.get(20, TimeUnit.SECONDS);
        }
    }

    private <T> Call<T> onLoop(Supplier<CompletionStage<T>> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletableFuture<Thread> on = new CompletableFuture<>();
        caller.execute(() -> call.get().whenComplete((v, t) -> {
            on.complete(Thread.currentThread());
            if (t != null) {
                result.completeExceptionally(t);
            } else {
                result.complete(v);
            }
        }));
        return new Call<>(result, on);
    }

    private static void waitFor(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.onSpinWait();
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 17 + i * 3 + (i >> 9));
        }
        return b;
    }

    @Test
    void callsOnAnEventLoopAreAnsweredOnThatLoop() throws Exception {
        ServerProcess kit = ServerProcess.nbdkit(dir, "memory", "16M");
        cleanup.add(kit);
        NbdBackstore b = open(kit.uri(""), "2");
        b.read(0, 1, UnpooledByteBufAllocator.DEFAULT).toCompletableFuture().get(10, TimeUnit.SECONDS).release();
        assertEquals(0, b.loopConnected(), "a caller on no event loop uses the backstore's own connections");

        byte[] first = pattern(4096, 1);
        onLoop(() -> b.write(0, Unpooled.wrappedBuffer(first), false)).get(); // answered while the loop's connection opens
        waitFor("a connection on the caller's loop", () -> b.loopConnected() == 1);

        List<Call<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 32; i++) { // one burst, as one read of an iSCSI connection brings it
            int seed = i;
            writes.add(onLoop(() -> b.write(8 + seed * 8L, Unpooled.wrappedBuffer(pattern(4096, seed + 2)), false)));
        }
        for (Call<Void> w : writes) {
            w.get();
            assertSame(callerThread, w.completedOn().get(), "completed by the caller's loop itself");
        }
        Call<Void> flush = onLoop(b::flush);
        flush.get();
        assertSame(callerThread, flush.completedOn().get());
        for (int i = 0; i < 32; i++) {
            int seed = i;
            Call<ByteBuf> read = onLoop(() -> b.read(8 + seed * 8L, 8, UnpooledByteBufAllocator.DEFAULT));
            assertArrayEquals(pattern(4096, seed + 2), bytes(read.get()), "block " + (8 + seed * 8));
            assertSame(callerThread, read.completedOn().get());
        }
        // what the loop's connection wrote, the backstore's own connections read (multi-conn)
        assertArrayEquals(pattern(4096, 2), bytes(b.read(8, 8, UnpooledByteBufAllocator.DEFAULT).toCompletableFuture()
                .get(10, TimeUnit.SECONDS)));
        assertArrayEquals(first, bytes(onLoop(() -> b.read(0, 8, UnpooledByteBufAllocator.DEFAULT)).get()));

        b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(0, b.loopConnected(), "closing the backstore closes the loop's connection too");
    }

    /** A server that answers reads with a pattern; with {@code dropSecond}, its second connection drops its first request. */
    private FakeNbdServer server(int flags, boolean dropSecond, AtomicInteger answered) throws IOException {
        AtomicInteger connections = new AtomicInteger();
        FakeNbdServer s = new FakeNbdServer(c -> {
            int n = connections.incrementAndGet();
            c.negotiate(1 << 20, flags, false);
            boolean drop = dropSecond && n == 2;
            while (true) {
                FakeNbdServer.Req r = c.request();
                if (drop) {
                    return; // closes the connection with the request unanswered
                }
                answered.incrementAndGet();
                c.simple(r.handle(), 0, r.type() == Nbd.CMD_READ ? pattern(r.length(), (int) (r.offset() / 512)) : new byte[0]);
            }
        });
        cleanup.add(s);
        return s;
    }

    @Test
    void aLostLoopConnectionHasItsRequestAnsweredOnAnother() throws Exception {
        AtomicInteger answered = new AtomicInteger();
        FakeNbdServer s = server(Nbd.FLAG_CAN_MULTI_CONN, true, answered);
        NbdBackstore b = open(s.uri(""), "1");
        assertArrayEquals(pattern(512, 1), bytes(onLoop(() -> b.read(1, 1, UnpooledByteBufAllocator.DEFAULT)).get()));
        waitFor("a connection on the caller's loop", () -> b.loopConnected() == 1);
        assertEquals(2, s.accepted);

        Call<ByteBuf> read = onLoop(() -> b.read(5, 1, UnpooledByteBufAllocator.DEFAULT)); // the loop's connection drops it
        assertArrayEquals(pattern(512, 5), bytes(read.get()), "sent again on the backstore's own connection");
        waitFor("the lost connection noticed", () -> b.loopConnected() == 0);
        // a later call opens the loop's connection again (after the backoff)
        waitFor("a new connection on the caller's loop", () -> {
            try {
                onLoop(() -> b.read(2, 1, UnpooledByteBufAllocator.DEFAULT)).get().release();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return b.loopConnected() == 1;
        });
        assertEquals(3, s.accepted);
        assertTrue(s.failures.isEmpty(), s.failures.toString());
    }

    @Test
    void withoutMultiConnNoConnectionIsAdded() throws Exception {
        AtomicInteger answered = new AtomicInteger();
        FakeNbdServer s = server(Nbd.FLAG_SEND_FLUSH, false, answered);
        NbdBackstore b = open(s.uri(""), "4");
        for (int i = 0; i < 20; i++) {
            int lba = i;
            assertArrayEquals(pattern(512, lba), bytes(onLoop(() -> b.read(lba, 1, UnpooledByteBufAllocator.DEFAULT)).get()));
        }
        onLoop(b::flush).get();
        assertEquals(1, s.accepted, "one connection: a FLUSH covers only the writes of its own connection");
        assertEquals(0, b.loopConnected());
        assertEquals(21, answered.get());
    }
}
