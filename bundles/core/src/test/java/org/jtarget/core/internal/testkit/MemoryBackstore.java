package org.jtarget.core.internal.testkit;

import io.netty.buffer.ByteBuf;
import java.util.BitSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.CryptographicErase;
import org.jtarget.spi.backstore.ThinProvisioning;

/** An in-memory backstore test double; optionally thin (tracks mapped blocks) and optionally deferred. */
public final class MemoryBackstore implements Backstore {
    private final int blockSize;
    private final byte[] data;
    private final BitSet mapped;
    public final AtomicInteger writes = new AtomicInteger();
    public final AtomicInteger flushes = new AtomicInteger();
    public volatile boolean lastFua;
    /** When set, read/write stages complete only when the test completes this gate. */
    public volatile CompletableFuture<Void> gate;
    public volatile boolean closed;
    /** When set, read throws it (as a full direct memory makes a buffer allocation throw OutOfMemoryError). */
    public volatile Error readError;
    /** When set, offered as the backstore's {@link CryptographicErase} capability. */
    public volatile CryptographicErase crypto;

    /** Reported as the backstore's limits. */
    public volatile org.jtarget.spi.backstore.BackstoreLimits limits = org.jtarget.spi.backstore.BackstoreLimits.DEFAULT;
    /** When set, reads and writes fail with {@link org.jtarget.spi.backstore.BackstoreException#busy}. */
    public volatile boolean busy;
    /** When set, reads hand back a buffer of the backstore's own (the data, copied into a fresh buffer). */
    public volatile boolean ownBuffers;
    /** The buffers handed back by {@link #ownBuffers} reads, to check the core released them. */
    public final java.util.List<ByteBuf> handedOut = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When set, reads never answer until the test completes them (a silent server); see {@link #hung}. */
    public volatile boolean hang;
    public final java.util.List<CompletableFuture<ByteBuf>> hung = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When set, offered as zero writing; counts its calls. */
    public volatile boolean zeroWriting;
    public final AtomicInteger zeroWrites = new AtomicInteger();

    /** When set (thin only), unmap leaves 0xDD in the blocks, as a plain discard may: LBPRZ 0. */
    public volatile boolean unmapLeavesGarbage;

    public MemoryBackstore(int blockSize, long blocks, boolean thin) {
        this.blockSize = blockSize;
        this.data = new byte[Math.toIntExact(blockSize * blocks)];
        this.mapped = thin ? new BitSet() : null;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return data.length / blockSize;
    }

    @Override
    public boolean writeCacheEnabled() {
        return true;
    }

    @Override
    public String productId() {
        return "jtarget-memory";
    }

    public byte[] bytes() {
        return data;
    }

    private CompletionStage<Void> done(Runnable r) {
        CompletableFuture<Void> g = gate;
        if (g == null) {
            r.run();
            return CompletableFuture.completedFuture(null);
        }
        return g.thenRun(r);
    }

    @Override
    public org.jtarget.spi.backstore.BackstoreLimits limits() {
        return limits;
    }

    @Override
    public CompletionStage<ByteBuf> read(long lba, int blocks, io.netty.buffer.ByteBufAllocator alloc) {
        if (hang) {
            CompletableFuture<ByteBuf> f = new CompletableFuture<>();
            hung.add(f);
            return f;
        }
        if (ownBuffers && !busy) {
            ByteBuf own = io.netty.buffer.Unpooled.directBuffer(blocks * blockSize);
            own.writeBytes(data, (int) (lba * blockSize), blocks * blockSize);
            handedOut.add(own);
            return CompletableFuture.completedFuture(own);
        }
        return Backstore.super.read(lba, blocks, alloc);
    }

    @Override
    public Optional<org.jtarget.spi.backstore.ZeroWriting> zeroWriting() {
        if (!zeroWriting) {
            return Optional.empty();
        }
        return Optional.of((lba, blocks, mayDeallocate, fua) -> {
            zeroWrites.incrementAndGet();
            java.util.Arrays.fill(data, (int) (lba * blockSize), (int) ((lba + blocks) * blockSize), (byte) 0);
            return CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        if (busy) {
            return CompletableFuture.failedFuture(org.jtarget.spi.backstore.BackstoreException.busy("queue full"));
        }
        Error error = readError;
        if (error != null) {
            throw error;
        }
        return done(() -> dst.writeBytes(data, (int) (lba * blockSize), blocks * blockSize));
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        if (busy) {
            return CompletableFuture.failedFuture(org.jtarget.spi.backstore.BackstoreException.busy("queue full"));
        }
        int off = (int) (lba * blockSize);
        int n = src.readableBytes();
        byte[] copy = new byte[n];
        src.getBytes(src.readerIndex(), copy);
        return done(() -> {
            System.arraycopy(copy, 0, data, off, n);
            if (mapped != null) {
                mapped.set((int) lba, (int) lba + n / blockSize);
            }
            writes.incrementAndGet();
            lastFua = fua;
        });
    }

    @Override
    public CompletionStage<Void> flush() {
        flushes.incrementAndGet();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        if (mapped == null) {
            return Optional.empty();
        }
        return Optional.of(new ThinProvisioning() {
            @Override
            public CompletionStage<Void> unmap(long lba, long blocks) {
                java.util.Arrays.fill(data, (int) (lba * blockSize), (int) ((lba + blocks) * blockSize),
                        unmapLeavesGarbage ? (byte) 0xDD : (byte) 0);
                mapped.clear((int) lba, (int) (lba + blocks));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public boolean readsZerosAfterUnmap() {
                return !unmapLeavesGarbage;
            }

            @Override
            public CompletionStage<org.jtarget.spi.backstore.Extent> extent(long lba) {
                boolean m = mapped.get((int) lba);
                int next = m ? mapped.nextClearBit((int) lba) : mapped.nextSetBit((int) lba);
                long end = next < 0 || next > blockCount() ? blockCount() : next;
                return CompletableFuture.completedFuture(new org.jtarget.spi.backstore.Extent(end - lba, m));
            }
        });
    }

    @Override
    public Optional<CryptographicErase> cryptographicErase() {
        return Optional.ofNullable(crypto);
    }

    @Override
    public CompletionStage<Void> close() {
        closed = true;
        return CompletableFuture.completedFuture(null);
    }
}
