package org.jtarget.spi.backstore;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An open backstore object: a linear array of blocks.
 *
 * <h2>Threads</h2>
 * The core calls every method from any thread, possibly concurrently (often a fabric's event loop);
 * overlapping requests are ordered by the core (SAM task attributes), not here. A method must not block
 * for long: a backstore that waits (disk, network) hands the work to threads of its own and returns a
 * stage at once. Completions may run on any thread.
 *
 * <h2>Completion and failure</h2>
 * Every request completes its stage exactly once. Failures complete it exceptionally with
 * {@link BackstoreException}: its {@link BackstoreException#reason() reason} is the sense the initiator
 * sees, and {@link BackstoreException#busy(String)} asks the core to answer BUSY or TASK SET FULL instead
 * of queuing without bound. Any other exception is reported as LOGICAL UNIT COMMUNICATION FAILURE.
 *
 * <h2>Cancellation</h2>
 * The core may cancel a stage it got from this interface ({@code toCompletableFuture().cancel(false)})
 * when task management (ABORT TASK, LOGICAL UNIT RESET, ...) gave up waiting for it. From then on the
 * core no longer looks at the request's result. A backstore that can give up the request does so (it
 * observes the cancellation on the {@link CompletableFuture} it returned); one that cannot lets it run and
 * drops the late answer. Either way it releases what it holds for the request: a read that completes a
 * cancelled stage with a buffer ({@link CompletableFuture#complete} returns false) releases that buffer.
 *
 * <h2>Buffers</h2>
 * The data of a write belongs to the caller, which releases it once the stage completes <em>or is
 * cancelled</em>; a backstore that uses it after that (an asynchronous network send) takes its own
 * reference ({@link ByteBuf#retainedSlice()}). A read hands a buffer to the caller, who releases it.
 */
@ConsumerType
public interface Backstore {
    /** Logical block size in bytes (512 or 4096). */
    int blockSize();

    /** Number of logical blocks. */
    long blockCount();

    /**
     * Whether writes pass a volatile cache that {@link #flush()} (or FUA) makes durable: the WCE bit of
     * the caching mode page. A backstore without a volatile cache (every completed write is durable)
     * answers false.
     */
    boolean writeCacheEnabled();

    /** A short product name for INQUIRY (at most 16 ASCII characters), e.g. {@code jtarget-file}. */
    String productId();

    /**
     * The transfer limits and granularities the core reports (Block Limits VPD page B0h) and enforces.
     * The default suits a local backstore.
     *
     * @since 2.0
     */
    default BackstoreLimits limits() {
        return BackstoreLimits.DEFAULT;
    }

    /**
     * Reads {@code blocks} blocks starting at {@code lba} into {@code dst} at its writer index,
     * advancing the writer index by {@code blocks * blockSize()}. The caller owns {@code dst}: the
     * backstore never releases it and must not use it after the stage completes.
     */
    CompletionStage<Void> read(long lba, int blocks, ByteBuf dst);

    /**
     * Reads {@code blocks} blocks starting at {@code lba} and hands the caller a buffer of exactly
     * {@code blocks * blockSize()} readable bytes, which the caller releases. A backstore whose data
     * arrive in buffers of its own (a network client) overrides this to return them (a retained slice)
     * instead of copying; the default allocates a buffer from {@code alloc} and calls
     * {@link #read(long, int, ByteBuf)}. This is what the core calls.
     *
     * @since 2.0
     */
    default CompletionStage<ByteBuf> read(long lba, int blocks, ByteBufAllocator alloc) {
        ByteBuf dst = alloc.directBuffer(Math.multiplyExact(blocks, blockSize()));
        CompletableFuture<ByteBuf> out = new CompletableFuture<>();
        CompletionStage<Void> io;
        try {
            io = read(lba, blocks, dst);
        } catch (RuntimeException e) {
            dst.release();
            throw e;
        }
        io.whenComplete((v, t) -> {
            if (t != null) {
                dst.release();
                out.completeExceptionally(t);
            } else if (!out.complete(dst)) { // cancelled meanwhile: nobody takes it
                dst.release();
            }
        });
        return out;
    }

    /**
     * Writes the readable bytes of {@code src} (a whole number of blocks) at {@code lba}, without
     * changing its reader index. The caller owns {@code src} and releases it after the stage completes
     * or is cancelled (see the class comment).
     *
     * @param fua force unit access: the stage completes only once the data is on stable storage
     */
    CompletionStage<Void> write(long lba, ByteBuf src, boolean fua);

    /** Makes every completed write durable (SYNCHRONIZE CACHE). */
    CompletionStage<Void> flush();

    /** Block deallocation and allocation status, when supported; absent means UNMAP is not offered. */
    default Optional<ThinProvisioning> thinProvisioning() {
        return Optional.empty();
    }

    /**
     * Writing zeros without sending them (a device's zero-out, an NBD WRITE_ZEROES), when supported;
     * absent means the core writes zero-filled buffers.
     *
     * @since 2.0
     */
    default Optional<ZeroWriting> zeroWriting() {
        return Optional.empty();
    }

    /**
     * Destroying the key of encrypted data, when this backstore encrypts what it stores; absent means
     * SANITIZE CRYPTOGRAPHIC ERASE is not offered.
     *
     * @since 1.2
     */
    default Optional<CryptographicErase> cryptographicErase() {
        return Optional.empty();
    }

    /**
     * Flushes and releases the storage. Called once, after every request the core made has completed or
     * been cancelled; no other call follows. The stage completes when the resources are released (for a
     * remote backstore: its connections are closed).
     *
     * @since 2.0 (asynchronous)
     */
    CompletionStage<Void> close();
}
