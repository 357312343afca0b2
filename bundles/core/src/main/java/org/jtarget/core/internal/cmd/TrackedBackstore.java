package org.jtarget.core.internal.cmd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.jtarget.spi.backstore.CryptographicErase;
import org.jtarget.spi.backstore.Extent;
import org.jtarget.spi.backstore.ThinProvisioning;
import org.jtarget.spi.backstore.ZeroWriting;

/**
 * One command's view of its backstore: every request it makes is remembered until it completes, so that
 * task management can give up on a request that never answers ({@link #cancelAll}) and end the command
 * within a bounded time. The backstore is told by the cancellation of the stage it returned (see the
 * cancellation contract of {@link Backstore}).
 */
final class TrackedBackstore implements Backstore, ThinProvisioning, ZeroWriting {
    private final Backstore bs;
    private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();
    private volatile boolean cancelled;

    TrackedBackstore(Backstore bs) {
        this.bs = bs;
    }

    /** Cancels every request still running, and any made from now on. */
    void cancelAll() {
        cancelled = true;
        for (CompletableFuture<?> f : pending) {
            f.cancel(false);
        }
    }

    private <T> CompletionStage<T> track(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone()) {
            return f;
        }
        pending.add(f);
        f.whenComplete((v, t) -> pending.remove(f));
        if (cancelled) {
            f.cancel(false);
        }
        return f;
    }

    @Override
    public int blockSize() {
        return bs.blockSize();
    }

    @Override
    public long blockCount() {
        return bs.blockCount();
    }

    @Override
    public boolean writeCacheEnabled() {
        return bs.writeCacheEnabled();
    }

    @Override
    public String productId() {
        return bs.productId();
    }

    @Override
    public BackstoreLimits limits() {
        return bs.limits();
    }

    @Override
    public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
        return track(bs.read(lba, blocks, dst));
    }

    @Override
    public CompletionStage<ByteBuf> read(long lba, int blocks, ByteBufAllocator alloc) {
        return track(bs.read(lba, blocks, alloc));
    }

    @Override
    public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
        return track(bs.write(lba, src, fua));
    }

    @Override
    public CompletionStage<Void> flush() {
        return track(bs.flush());
    }

    @Override
    public Optional<ThinProvisioning> thinProvisioning() {
        return bs.thinProvisioning().map(t -> this);
    }

    @Override
    public CompletionStage<Void> unmap(long lba, long blocks) {
        return track(bs.thinProvisioning().orElseThrow().unmap(lba, blocks));
    }

    @Override
    public CompletionStage<Extent> extent(long lba) {
        return track(bs.thinProvisioning().orElseThrow().extent(lba));
    }

    @Override
    public boolean readsZerosAfterUnmap() {
        return bs.thinProvisioning().map(ThinProvisioning::readsZerosAfterUnmap).orElse(true);
    }

    @Override
    public Optional<ZeroWriting> zeroWriting() {
        return bs.zeroWriting().map(z -> this);
    }

    @Override
    public CompletionStage<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean fua) {
        return track(bs.zeroWriting().orElseThrow().writeZeroes(lba, blocks, mayDeallocate, fua));
    }

    /** Not tracked: SANITIZE goes on after the command ends (SBC-3 4.11). */
    @Override
    public Optional<CryptographicErase> cryptographicErase() {
        return bs.cryptographicErase();
    }

    /** Never called through a command. */
    @Override
    public CompletionStage<Void> close() {
        throw new UnsupportedOperationException("a command does not close its backstore");
    }
}
