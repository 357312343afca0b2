package org.jtarget.backstore.s3.internal;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded write-back cache of one S3 LUN: a local file of {@code slots} slots of one object each
 * ({@link CacheFiles}), with a slot index that marks dirty slots, so that data acknowledged to the initiator
 * survive a {@code kill -9} of the target (they sit in the kernel's page cache, as with the file backstore)
 * and are uploaded at the next open.
 *
 * <p>Downloads and uploads run on two separate bounded pools, so a read never queues behind uploads. A read
 * of an object not cached takes a free or clean slot; when every slot is dirty it downloads straight into
 * the caller's buffer. A write waits for a slot (uploads free them) at most {@code slotWaitNanos}, then fails.
 * A dirty object is uploaded {@code writeDelayMillis} after it became dirty, at once when it has been written
 * from its start to its end since its last upload began (a sequential writer has moved on) or when half the
 * slots are dirty; an object of zeros is deleted instead. {@link #flush} uploads what is dirty and waits.
 *
 * <p>All calls block; the backstore runs them on its own request threads.
 */
final class ObjectCache {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectCache.class);
    private static final long RETRY_AFTER_FAILURE_MILLIS = 5000;

    /** One object in a slot. Fields guarded by {@link #lock}. */
    private static final class Entry {
        final long object;
        final int slot;
        CompletableFuture<Void> loading; // non-null while the object downloads into the slot
        int pins;
        long version;           // incremented by each write
        long uploadedVersion;   // the version the last successful upload carried
        boolean dirty;
        boolean uploading;
        boolean uploadQueued;   // submitted to the upload pool, not started
        boolean uploadTimed;    // an upload is scheduled on the timer
        boolean deleting;
        boolean dropped;
        boolean present;        // the store holds the object (as far as this cache knows)
        int writtenTo;          // bytes 0 to here written since the last upload started (a sequential pass)
        long failures;
        IOException lastError;

        Entry(long object, int slot) {
            this.object = object;
            this.slot = slot;
        }
    }

    private final String name;
    private final ObjectStore store;
    private final CacheFiles files;
    private final int objectSize;
    private final ExecutorService downloads;
    private final ExecutorService uploads;
    private final ScheduledExecutorService timer;
    private final long writeDelayMillis;
    private final long slotWaitNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(16, 0.75f, true); // LRU order
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    /** Direct buffers of one object: an upload reads its slot into one and sends it from there (no heap copies). */
    private final ConcurrentLinkedDeque<ByteBuffer> uploadBuffers = new ConcurrentLinkedDeque<>();
    private int dirtyCount;
    private boolean closed;

    ObjectCache(String name, ObjectStore store, CacheFiles files, ExecutorService downloads, ExecutorService uploads,
                ScheduledExecutorService timer, long writeDelayMillis, long slotWaitNanos) throws IOException {
        this.name = name;
        this.store = store;
        this.files = files;
        this.objectSize = files.objectSize();
        this.downloads = downloads;
        this.uploads = uploads;
        this.timer = timer;
        this.writeDelayMillis = writeDelayMillis;
        this.slotWaitNanos = slotWaitNanos;
        Map<Integer, Long> dirty = files.dirtySlots();
        lock.lock();
        try {
            for (int s = 0; s < files.slots(); s++) {
                Long object = dirty.get(s);
                if (object == null) {
                    freeSlots.add(s);
                } else {
                    Entry e = new Entry(object, s);
                    e.version = 1;
                    e.dirty = true;
                    dirtyCount++;
                    entries.put(object, e);
                }
            }
            if (dirtyCount > 0) {
                LOG.info("backstore {}: {} objects written before the last stop are still to upload: uploading them",
                        name, dirtyCount);
                for (Entry e : entries.values()) {
                    queueUpload(e, 0);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    int objectSize() {
        return objectSize;
    }

    /** Objects written and not yet in the store. */
    int dirtyObjects() {
        lock.lock();
        try {
            return dirtyCount;
        } finally {
            lock.unlock();
        }
    }

    /** Copies {@code length} bytes from {@code offset} of the object into {@code dst} at its writer index. */
    void read(long object, int offset, int length, ByteBuf dst) throws BackstoreException {
        Entry e = pin(object, true, false);
        if (e == null) { // every slot dirty: read around the cache
            byte[] data = download(object);
            if (data == null || data.length <= offset) {
                dst.writeZero(length);
            } else {
                int n = Math.min(length, data.length - offset);
                dst.writeBytes(data, offset, n);
                dst.writeZero(length - n);
            }
            return;
        }
        try {
            files.read(e.slot, offset, length, dst);
        } catch (IOException x) {
            throw new BackstoreException(SenseReason.UNRECOVERED_READ_ERROR, name + ": cache file: " + x, x);
        } finally {
            unpin(e);
        }
    }

    /** Writes the readable bytes of {@code src} (or zeros when null) at {@code offset} of the object. */
    void write(long object, int offset, int length, ByteBuf src) throws BackstoreException {
        boolean whole = offset == 0 && length == objectSize;
        Entry e = pin(object, !whole, true);
        IOException failure = null;
        try {
            files.write(e.slot, offset, length, src);
        } catch (IOException x) {
            failure = x;
        }
        lock.lock();
        try {
            e.pins--;
            if (failure == null) {
                e.version++;
                if (!e.dirty) {
                    try {
                        markDirty(e);
                    } catch (IOException x) {
                        failure = x;
                    }
                }
                if (offset <= e.writtenTo) {
                    e.writtenTo = Math.max(e.writtenTo, offset + length);
                }
                if (e.writtenTo == objectSize) { // written to its end: the writer moved on, no point in waiting
                    queueUpload(e, 0);
                }
            } else if (whole && !e.dirty && e.pins == 0) {
                forget(e); // the slot holds neither the old nor the new object
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            throw new BackstoreException(SenseReason.WRITE_ERROR, name + ": cache file: " + failure, failure);
        }
    }

    /**
     * Makes the objects read as zeros in the store at once: deletes them (in parallel), then drops them from the
     * cache. Until its delete succeeded a dirty object stays dirty (a crash in between uploads it again: the UNMAP was not
     * acknowledged, the writes before it were).
     */
    void delete(List<Long> objects) throws BackstoreException {
        List<Entry> held = new ArrayList<>();
        lock.lock();
        try {
            for (long object : objects) {
                Entry e;
                while ((e = entries.get(object)) != null
                        && (e.pins > 0 || e.uploading || e.loading != null || e.deleting)) {
                    changed.awaitUninterruptibly();
                }
                if (e != null) {
                    e.deleting = true;
                    e.pins++;
                }
                held.add(e);
            }
        } finally {
            lock.unlock();
        }
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (long object : objects) { // in parallel, as many as the upload pool runs
            try {
                deletes.add(CompletableFuture.runAsync(() -> {
                    try {
                        store.delete(object);
                    } catch (IOException x) {
                        throw new CompletionException(x);
                    }
                }, uploads));
            } catch (RejectedExecutionException x) {
                deletes.add(CompletableFuture.failedFuture(new IOException(name + ": closed")));
            }
        }
        Throwable failure = null;
        boolean[] deleted = new boolean[objects.size()];
        for (int i = 0; i < deletes.size(); i++) {
            try {
                deletes.get(i).get();
                deleted[i] = true;
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                failure = x;
            } catch (ExecutionException x) {
                failure = failure == null ? x.getCause() : failure;
            }
        }
        lock.lock();
        try {
            for (int i = 0; i < held.size(); i++) {
                Entry e = held.get(i);
                if (e != null) {
                    e.pins--;
                    e.deleting = false;
                    if (deleted[i] && entries.get(e.object) == e) {
                        forget(e);
                    }
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            throw new BackstoreException(SenseReason.WRITE_ERROR, name + ": " + failure.getMessage(), failure);
        }
    }

    /** Whether the object holds data: cached, or present in the store. */
    boolean mapped(long object) throws BackstoreException {
        lock.lock();
        try {
            Entry e = entries.get(object);
            if (e != null && e.loading == null) {
                return e.dirty || e.present;
            }
        } finally {
            lock.unlock();
        }
        return onPool(downloads, SenseReason.UNRECOVERED_READ_ERROR, () -> store.exists(object));
    }

    /** Starts downloading the object into a free or clean slot, if it is not cached (read-ahead). */
    void prefetch(long object) {
        lock.lock();
        try {
            if (closed || entries.containsKey(object)) {
                return;
            }
            int slot = takeSlot();
            if (slot < 0) {
                return;
            }
            Entry e = new Entry(object, slot);
            entries.put(object, e);
            startLoad(e);
        } finally {
            lock.unlock();
        }
    }

    /** Uploads every object dirty now and waits for them. */
    void flushAll() throws BackstoreException {
        flush(null);
    }

    /** Uploads the objects of {@code only} (all when null) that are dirty now, in parallel, and waits for them. */
    void flush(java.util.Set<Long> only) throws BackstoreException {
        List<Entry> targets = new ArrayList<>();
        List<Long> versions = new ArrayList<>();
        lock.lock();
        try {
            for (Entry e : entries.values()) {
                if (e.dirty && (only == null || only.contains(e.object))) {
                    targets.add(e);
                    versions.add(e.version);
                }
            }
            for (int i = 0; i < targets.size(); i++) {
                queueUpload(targets.get(i), 0);
            }
            for (int i = 0; i < targets.size(); i++) {
                Entry e = targets.get(i);
                long failuresBefore = e.failures;
                while (!e.dropped && e.uploadedVersion < versions.get(i)) {
                    if (e.failures > failuresBefore) {
                        throw new BackstoreException(SenseReason.WRITE_ERROR, name + ": upload failed: "
                                + e.lastError.getMessage(), e.lastError);
                    }
                    if (closed) {
                        throw new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, name + ": closed");
                    }
                    queueUpload(e, 0);
                    changed.awaitUninterruptibly();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops taking work; the caller flushed first. Dirty slots stay marked in the index for the next open. */
    void close() throws IOException {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        files.close();
    }

    // ---- slots and entries (lock held unless said otherwise) ----

    /**
     * The object's entry, pinned (its slot is not reused until {@link #unpin}) and loaded when {@code needData}.
     * Without a slot: null when {@code mayWait} is false, else waits for uploads to free one.
     */
    private Entry pin(long object, boolean needData, boolean mayWait) throws BackstoreException {
        long deadline = System.nanoTime() + slotWaitNanos;
        CompletableFuture<Void> loading;
        Entry e;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, name + ": closed");
                }
                e = entries.get(object);
                if (e != null) {
                    break;
                }
                int slot = takeSlot();
                if (slot >= 0) {
                    e = new Entry(object, slot);
                    entries.put(object, e);
                    if (needData) {
                        startLoad(e);
                    }
                    break;
                }
                if (!mayWait) {
                    return null;
                }
                for (Entry d : entries.values()) {
                    queueUpload(d, 0); // free slots as fast as the store allows
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new BackstoreException(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, name + ": write cache full ("
                            + dirtyCount + " objects not yet uploaded to " + store.describe() + lastErrorText() + ")");
                }
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw new BackstoreException(SenseReason.LOGICAL_UNIT_NOT_READY, name + ": interrupted");
                }
            }
            e.pins++;
            loading = e.loading;
        } finally {
            lock.unlock();
        }
        if (loading != null) {
            try {
                loading.get();
            } catch (InterruptedException x) {
                unpin(e);
                Thread.currentThread().interrupt();
                throw new BackstoreException(SenseReason.UNRECOVERED_READ_ERROR, name + ": interrupted");
            } catch (ExecutionException x) {
                unpin(e);
                throw new BackstoreException(SenseReason.UNRECOVERED_READ_ERROR, name + ": "
                        + x.getCause().getMessage(), x.getCause());
            }
        }
        return e;
    }

    private void unpin(Entry e) {
        lock.lock();
        try {
            e.pins--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A free slot, or the slot of the least recently used clean entry, or -1. */
    private int takeSlot() {
        Integer free = freeSlots.poll();
        if (free != null) {
            return free;
        }
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (!e.dirty && e.pins == 0 && !e.uploading && e.loading == null) {
                it.remove();
                e.dropped = true;
                return e.slot;
            }
        }
        return -1;
    }

    private void forget(Entry e) {
        entries.remove(e.object);
        e.dropped = true;
        if (e.dirty) {
            e.dirty = false;
            dirtyCount--;
            files.markClean(e.slot);
        }
        freeSlots.add(e.slot);
        changed.signalAll();
    }

    private void startLoad(Entry e) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        e.loading = f;
        try {
            downloads.execute(() -> load(e, f));
        } catch (RejectedExecutionException x) {
            e.loading = null;
            forget(e);
            f.completeExceptionally(new IOException(name + ": closed"));
        }
    }

    /** On a download thread: fills the slot with the object (zeros when absent). */
    private void load(Entry e, CompletableFuture<Void> f) {
        try {
            byte[] data = fetch(e.object);
            files.fill(e.slot, data);
            lock.lock();
            try {
                e.loading = null;
                e.present = data != null;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            f.complete(null);
        } catch (IOException | RuntimeException x) {
            lock.lock();
            try {
                e.loading = null;
                forget(e);
            } finally {
                lock.unlock();
            }
            f.completeExceptionally(x);
        }
    }

    private byte[] download(long object) throws BackstoreException {
        return onPool(downloads, SenseReason.UNRECOVERED_READ_ERROR, () -> fetch(object));
    }

    /**
     * The object, or null when absent. Every object is uploaded whole, so one of another length was written with
     * another object size or cut short: an error, not data to pad with zeros or cut.
     */
    private byte[] fetch(long object) throws IOException {
        byte[] data = store.read(object);
        if (data != null && data.length != objectSize) {
            throw new IOException(store.describe() + ": object " + object + " is " + data.length + " bytes (expected: "
                    + objectSize + "; written with another object size, or cut short)");
        }
        return data;
    }

    private interface StoreCall<T> {
        T call() throws IOException;
    }

    /** Runs a store call on one of the bounded pools and waits for it; a failure becomes {@code reason}. */
    private <T> T onPool(ExecutorService pool, SenseReason reason, StoreCall<T> call) throws BackstoreException {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return call.call();
                } catch (IOException x) {
                    throw new CompletionException(x);
                }
            }, pool).get();
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new BackstoreException(reason, name + ": interrupted");
        } catch (ExecutionException | RejectedExecutionException x) {
            Throwable c = x.getCause() != null ? x.getCause() : x;
            throw new BackstoreException(reason, name + ": " + c.getMessage(), c);
        }
    }

    private void markDirty(Entry e) throws IOException {
        files.markDirty(e.slot, e.object); // before the write is acknowledged: it survives a kill -9
        e.dirty = true;
        dirtyCount++;
        boolean pressing = dirtyCount * 2 >= files.slots();
        queueUpload(e, pressing ? 0 : writeDelayMillis);
    }

    /** Queues an upload now ({@code delayMillis} 0) or after a delay, unless one is queued or running. */
    private void queueUpload(Entry e, long delayMillis) {
        if (!e.dirty || e.uploadQueued || e.uploading || e.dropped || e.deleting || closed) {
            return;
        }
        if (delayMillis > 0) {
            if (!e.uploadTimed) {
                e.uploadTimed = true;
                try {
                    timer.schedule(() -> {
                        lock.lock();
                        try {
                            e.uploadTimed = false;
                            queueUpload(e, 0);
                        } finally {
                            lock.unlock();
                        }
                    }, delayMillis, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException x) {
                    e.uploadTimed = false;
                }
            }
            return;
        }
        e.uploadQueued = true;
        try {
            uploads.execute(() -> upload(e));
        } catch (RejectedExecutionException x) {
            e.uploadQueued = false;
        }
    }

    /** On an upload thread: stores the slot's object (or deletes it when all zeros). */
    private void upload(Entry e) {
        long version;
        lock.lock();
        try {
            e.uploadQueued = false;
            if (!e.dirty || e.uploading || e.dropped || e.deleting || closed) {
                return;
            }
            e.uploading = true;
            e.pins++;
            version = e.version;
            e.writtenTo = 0; // from now on, only a new pass over the whole object uploads it again at once
        } finally {
            lock.unlock();
        }
        IOException failure = null;
        boolean present = false;
        ByteBuffer buffer = uploadBuffers.poll();
        try {
            if (buffer == null) { // at most one per upload thread: the pool keeps them
                buffer = ByteBuffer.allocateDirect(objectSize);
            }
            files.readSlot(e.slot, buffer);
            present = !CacheFiles.allZero(buffer);
            if (present) {
                store.write(e.object, buffer);
            } else {
                store.delete(e.object);
            }
        } catch (IOException x) {
            failure = x;
        } catch (RuntimeException | OutOfMemoryError x) { // the entry must not stay "uploading": retried later
            failure = new IOException(x.toString(), x);
        } finally {
            if (buffer != null) {
                uploadBuffers.push(buffer);
            }
        }
        lock.lock();
        try {
            e.uploading = false;
            e.pins--;
            if (failure == null) {
                e.present = present;
                e.uploadedVersion = version;
                e.lastError = null;
                if (e.version == version) {
                    e.dirty = false;
                    dirtyCount--;
                    files.markClean(e.slot);
                } else {
                    queueUpload(e, writeDelayMillis);
                }
            } else {
                e.failures++;
                if (e.lastError == null) { // once per object and outage, not every retry
                    LOG.warn("backstore {}: upload of object {} failed, retrying every {} s: {}", name, e.object,
                            RETRY_AFTER_FAILURE_MILLIS / 1000, failure.getMessage());
                } else {
                    LOG.debug("backstore {}: upload of object {} failed again: {}", name, e.object, failure.getMessage());
                }
                e.lastError = failure;
                queueUpload(e, RETRY_AFTER_FAILURE_MILLIS);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private String lastErrorText() {
        for (Entry e : entries.values()) {
            if (e.lastError != null) {
                return "; last upload error: " + e.lastError.getMessage();
            }
        }
        return "";
    }
}
