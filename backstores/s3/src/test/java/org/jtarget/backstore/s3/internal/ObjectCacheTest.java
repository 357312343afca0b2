package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write-back cache against an in-memory object store whose uploads can be held or failed. */
class ObjectCacheTest {
    static final int OBJECT = 8192;

    /** Objects in a map; writes can be held on a latch or fail. */
    static final class MemoryStore implements ObjectStore {
        final Map<Long, byte[]> objects = new ConcurrentHashMap<>();
        final AtomicInteger puts = new AtomicInteger();
        final AtomicInteger deletes = new AtomicInteger();
        final AtomicInteger reads = new AtomicInteger();
        volatile CountDownLatch holdWrites;
        volatile CountDownLatch writeStarted = new CountDownLatch(1);
        volatile IOException failWrites;

        @Override
        public byte[] read(long object) {
            reads.incrementAndGet();
            byte[] b = objects.get(object);
            return b == null ? null : b.clone();
        }

        @Override
        public void write(long object, ByteBuffer data) throws IOException {
            writeStarted.countDown();
            await(holdWrites);
            if (failWrites != null) {
                throw failWrites;
            }
            puts.incrementAndGet();
            byte[] copy = new byte[data.remaining()];
            data.duplicate().get(copy);
            objects.put(object, copy);
        }

        @Override
        public void delete(long object) throws IOException {
            await(holdWrites);
            if (failWrites != null) {
                throw failWrites;
            }
            deletes.incrementAndGet();
            objects.remove(object);
        }

        @Override
        public boolean exists(long object) {
            return objects.containsKey(object);
        }

        @Override
        public String describe() {
            return "memory";
        }

        private static void await(CountDownLatch l) throws IOException {
            try {
                if (l != null && !l.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("held too long");
                }
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
    }

    @TempDir
    Path dir;
    final MemoryStore store = new MemoryStore();
    final ExecutorService downloads = Executors.newFixedThreadPool(2);
    final ExecutorService uploads = Executors.newFixedThreadPool(2);
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        store.holdWrites = null;
        downloads.shutdownNow();
        uploads.shutdownNow();
        timer.shutdownNow();
    }

    ObjectCache cache(int slots, long writeDelayMillis, long slotWaitMillis) throws IOException {
        return new ObjectCache("t", store, CacheFiles.open(dir.resolve("lun"), OBJECT, slots), downloads, uploads,
                timer, writeDelayMillis, TimeUnit.MILLISECONDS.toNanos(slotWaitMillis));
    }

    static ByteBuf pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + i * 7 + 1);
        }
        return Unpooled.wrappedBuffer(b);
    }

    static byte[] read(ObjectCache c, long object, int offset, int length) throws BackstoreException {
        ByteBuf dst = Unpooled.buffer(length);
        try {
            c.read(object, offset, length, dst);
            assertEquals(length, dst.readableBytes());
            byte[] b = new byte[length];
            dst.readBytes(b);
            return b;
        } finally {
            dst.release();
        }
    }

    static void write(ObjectCache c, long object, int offset, ByteBuf src) throws BackstoreException {
        try {
            c.write(object, offset, src.readableBytes(), src);
        } finally {
            src.release();
        }
    }

    @Test
    void neverWrittenReadsZerosAndStoresNothing() throws Exception {
        ObjectCache c = cache(4, 0, 1000);
        assertArrayEquals(new byte[OBJECT], read(c, 3, 0, OBJECT));
        c.flushAll();
        assertTrue(store.objects.isEmpty());
        assertEquals(0, store.puts.get());
        assertFalse(c.mapped(3));
        c.close();
    }

    @Test
    void partialWriteKeepsTheRestOfTheStoredObjectAndFlushUploadsIt() throws Exception {
        byte[] old = pattern(OBJECT, 5).array();
        store.objects.put(2L, old.clone());
        ObjectCache c = cache(4, 60_000, 1000); // no write-back before the flush
        write(c, 2, 512, pattern(1024, 9));
        assertEquals(1, c.dirtyObjects());
        byte[] expected = old.clone();
        System.arraycopy(pattern(1024, 9).array(), 0, expected, 512, 1024);
        assertArrayEquals(expected, read(c, 2, 0, OBJECT));
        assertArrayEquals(old, store.objects.get(2L), "uploaded before the delay or a flush");
        c.flushAll();
        assertEquals(0, c.dirtyObjects());
        assertArrayEquals(expected, store.objects.get(2L));
        c.close();
    }

    @Test
    void anObjectWrittenToItsEndIsUploadedWithoutWaitingForTheDelay() throws Exception {
        ObjectCache c = cache(8, 3_600_000, 1000); // an hour: only "written to its end" uploads before a flush
        write(c, 1, 0, pattern(OBJECT, 1)); // whole object
        write(c, 2, 0, pattern(OBJECT / 2, 2)); // two halves in order
        write(c, 2, OBJECT / 2, pattern(OBJECT / 2, 3));
        write(c, 3, OBJECT / 2, pattern(OBJECT / 2, 4)); // only the second half: waits
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (c.dirtyObjects() > 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, c.dirtyObjects(), "objects 1 and 2 uploaded, 3 still dirty");
        assertArrayEquals(pattern(OBJECT, 1).array(), store.objects.get(1L));
        byte[] two = new byte[OBJECT];
        System.arraycopy(pattern(OBJECT / 2, 2).array(), 0, two, 0, OBJECT / 2);
        System.arraycopy(pattern(OBJECT / 2, 3).array(), 0, two, OBJECT / 2, OBJECT / 2);
        assertArrayEquals(two, store.objects.get(2L));
        assertFalse(store.objects.containsKey(3L));
        c.flushAll();
        assertEquals(0, c.dirtyObjects());
        assertTrue(store.objects.containsKey(3L));
        c.close();
    }

    @Test
    void anObjectOfAnotherLengthIsAReadErrorNotPaddedOrCut() throws Exception {
        store.objects.put(4L, pattern(OBJECT / 2, 4).array()); // cut short, or written with half the object size
        store.objects.put(5L, pattern(OBJECT * 2, 5).array());
        ObjectCache c = cache(4, 0, 1000);
        for (long object : new long[] {4, 5}) {
            BackstoreException e = assertThrows(BackstoreException.class, () -> read(c, object, 0, 512));
            assertEquals(SenseReason.UNRECOVERED_READ_ERROR, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("object " + object + " is " + store.objects.get(object).length
                    + " bytes (expected: " + OBJECT + "; written with another object size, or cut short)"), e.getMessage());
        }
        assertArrayEquals(new byte[512], read(c, 6, 0, 512), "an absent object still reads as zeros");
        c.close();
    }

    @Test
    void anObjectOfZerosIsDeletedNotStored() throws Exception {
        store.objects.put(1L, pattern(OBJECT, 1).array());
        ObjectCache c = cache(4, 0, 1000);
        ByteBuf zeros = Unpooled.buffer(OBJECT).writeZero(OBJECT);
        write(c, 1, 0, zeros);
        c.flushAll();
        assertNull(store.objects.get(1L));
        assertEquals(0, store.puts.get());
        c.delete(java.util.List.of(7L)); // deleting one never written
        assertFalse(c.mapped(7));
        c.close();
    }

    @Test
    void deleteDropsADirtyObjectAndTheStoredOne() throws Exception {
        store.objects.put(0L, pattern(OBJECT, 1).array());
        ObjectCache c = cache(4, 60_000, 1000);
        write(c, 0, 0, pattern(OBJECT, 3));
        c.delete(java.util.List.of(0L));
        assertEquals(0, c.dirtyObjects());
        assertNull(store.objects.get(0L));
        assertArrayEquals(new byte[OBJECT], read(c, 0, 0, OBJECT));
        c.flushAll();
        assertNull(store.objects.get(0L), "the dropped dirty data came back");
        c.close();
    }

    @Test
    void dirtyObjectsOfAKilledInstanceAreUploadedAtTheNextOpen() throws Exception {
        ObjectCache c = cache(16, 60_000, 1000); // 2 of 16 slots dirty: no write-back before the delay
        write(c, 5, 4096, pattern(4096, 2));
        write(c, 6, 0, pattern(OBJECT, 4));
        assertTrue(store.objects.isEmpty());
        // a kill -9: nothing more runs; what the page cache holds stays (here: the files as written)
        c.close();
        Path index = dir.resolve("lun.index");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(index)));
        store.holdWrites = new CountDownLatch(1); // the next open starts uploading at once: count first
        ObjectCache again = cache(16, 60_000, 1000);
        assertEquals(2, again.dirtyObjects());
        store.holdWrites.countDown();
        again.flushAll();
        byte[] five = new byte[OBJECT];
        System.arraycopy(pattern(4096, 2).array(), 0, five, 4096, 4096);
        assertArrayEquals(five, store.objects.get(5L));
        assertArrayEquals(pattern(OBJECT, 4).array(), store.objects.get(6L));
        again.close();
        ObjectCache third = cache(16, 0, 1000);
        assertEquals(0, third.dirtyObjects(), "uploaded objects marked clean");
        third.close();
    }

    @Test
    void readsDoNotWaitBehindHeldUploads() throws Exception {
        store.objects.put(9L, pattern(OBJECT, 9).array());
        store.holdWrites = new CountDownLatch(1);
        ObjectCache c = cache(4, 0, 1000);
        write(c, 1, 0, pattern(OBJECT, 1));
        write(c, 2, 0, pattern(OBJECT, 2));
        assertTrue(store.writeStarted.await(10, TimeUnit.SECONDS), "upload started");
        // both upload threads are held; reads of cached and of stored objects still complete
        assertArrayEquals(pattern(OBJECT, 1).array(), read(c, 1, 0, OBJECT));
        CompletableFuture<byte[]> stored = CompletableFuture.supplyAsync(() -> {
            try {
                return read(c, 9, 0, OBJECT);
            } catch (BackstoreException e) {
                throw new RuntimeException(e);
            }
        });
        assertArrayEquals(pattern(OBJECT, 9).array(), stored.get(10, TimeUnit.SECONDS));
        store.holdWrites.countDown();
        c.flushAll();
        assertArrayEquals(pattern(OBJECT, 2).array(), store.objects.get(2L));
        c.close();
    }

    @Test
    void aFullCacheIsReadAroundAndAWriteFailsInsteadOfHanging() throws Exception {
        store.failWrites = new IOException("HTTP 503 SlowDown");
        store.objects.put(8L, pattern(OBJECT, 8).array());
        ObjectCache c = cache(4, 0, 300);
        for (int o = 0; o < 4; o++) {
            write(c, o, 0, pattern(OBJECT, o));
        }
        assertArrayEquals(pattern(OBJECT, 8).array(), read(c, 8, 0, OBJECT), "read around a cache full of dirty data");
        BackstoreException full = assertThrows(BackstoreException.class, () -> write(c, 4, 0, pattern(OBJECT, 4)));
        assertEquals(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, full.reason());
        assertTrue(full.getMessage().contains("503 SlowDown"), full.getMessage());
        BackstoreException flush = assertThrows(BackstoreException.class, () -> c.flushAll());
        assertEquals(SenseReason.WRITE_ERROR, flush.reason());
        store.failWrites = null; // the server is back: the same data go up
        c.flushAll();
        for (int o = 0; o < 4; o++) {
            assertArrayEquals(pattern(OBJECT, o).array(), store.objects.get((long) o));
        }
        c.close();
    }

    @Test
    void readAheadFillsTheCacheFromTheStore() throws Exception {
        store.objects.put(3L, pattern(OBJECT, 3).array());
        ObjectCache c = cache(4, 0, 1000);
        c.prefetch(3);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.reads.get() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // until the read-ahead has fetched the object
        }
        assertEquals(1, store.reads.get());
        store.objects.clear(); // what was fetched is served from the cache
        assertArrayEquals(pattern(OBJECT, 3).array(), read(c, 3, 0, OBJECT));
        c.close();
    }

    @Test
    void writesOverManyMoreObjectsThanSlotsAllArrive() throws Exception {
        ObjectCache c = cache(4, 0, 10_000);
        for (int o = 0; o < 40; o++) {
            write(c, o, 0, pattern(OBJECT, o));
        }
        c.flushAll();
        for (int o = 0; o < 40; o++) {
            assertTrue(Arrays.equals(pattern(OBJECT, o).array(), store.objects.get((long) o)), "object " + o);
        }
        c.close();
    }

    /**
     * Eight threads write and read back their own blocks (so never overlapping, as the core orders overlapping
     * commands) over 12 objects through 4 slots, while uploads and evictions run: every read sees the thread's
     * last write, and after a flush the store holds exactly the model.
     */
    @Test
    void concurrentWritesToDistinctBlocksOfSharedObjectsAllArrive() throws Exception {
        ObjectCache c = cache(4, 1, 30_000);
        int threads = 8;
        int objects = 12;
        int block = 512;
        byte[][] model = new byte[objects][OBJECT];
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                done.add(pool.submit(() -> {
                    java.util.SplittableRandom r = new java.util.SplittableRandom(me);
                    for (int i = 0; i < 300; i++) {
                        int object = r.nextInt(objects);
                        int slot = me + threads * r.nextInt(OBJECT / block / threads); // this thread's blocks only
                        byte[] data = new byte[block];
                        r.nextBytes(data);
                        write(c, object, slot * block, Unpooled.wrappedBuffer(data));
                        synchronized (model) {
                            System.arraycopy(data, 0, model[object], slot * block, block);
                        }
                        assertArrayEquals(data, read(c, object, slot * block, block));
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        c.flushAll();
        for (int o = 0; o < objects; o++) {
            byte[] stored = store.objects.get((long) o);
            assertArrayEquals(model[o], stored == null ? new byte[OBJECT] : stored, "object " + o);
        }
        c.close();
    }
}
