package org.jtarget.spi.backstore;

import io.netty.buffer.ByteBuf;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An open backstore object: a linear array of blocks. The core calls it from any thread, possibly
 * concurrently; overlapping requests are ordered by the core (SAM task attributes), not here.
 * Completions may run on any thread; a backstore that blocks (file I/O) should either be fast
 * enough to run on the caller (the fabric's event loop) or hand off to its own threads.
 *
 * <p>Failures complete the stage exceptionally with {@link BackstoreException}.
 */
@ConsumerType
public interface Backstore extends AutoCloseable {
    /** Logical block size in bytes (512 or 4096). */
    int blockSize();

    /** Number of logical blocks. */
    long blockCount();

    /** Whether writes pass a volatile cache that {@link #flush()} (or FUA) makes durable: the WCE bit. */
    boolean writeCacheEnabled();

    /** A short product name for INQUIRY (at most 16 ASCII characters), e.g. {@code jtarget-file}. */
    String productId();

    /**
     * Reads {@code blocks} blocks starting at {@code lba} into {@code dst} at its writer index,
     * advancing the writer index by {@code blocks * blockSize()}. The caller owns {@code dst}: the
     * backstore never releases it and must not use it after the stage completes.
     */
    CompletionStage<Void> read(long lba, int blocks, ByteBuf dst);

    /**
     * Writes the readable bytes of {@code src} (a whole number of blocks) at {@code lba}, without
     * changing its reader index. The caller owns {@code src} and releases it after the stage completes.
     *
     * @param fua force unit access: the stage completes only once the data is on stable storage
     */
    CompletionStage<Void> write(long lba, ByteBuf src, boolean fua);

    /** Makes every completed write durable (SYNCHRONIZE CACHE). */
    CompletionStage<Void> flush();

    /** Block deallocation, when this backstore supports it; absent means UNMAP is not offered. */
    default Optional<ThinProvisioning> thinProvisioning() {
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

    /** Flushes and releases the storage. Called once; no other call follows. */
    @Override
    void close();
}
