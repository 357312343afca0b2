package org.jtarget.spi.backstore;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Optional part of a {@link Backstore} that stores its blocks encrypted and can destroy the key
 * (SBC-3 5.30.4 SANITIZE CRYPTOGRAPHIC ERASE).
 */
@ConsumerType
public interface CryptographicErase {
    /**
     * Replaces the media encryption key by a new random one and destroys the old key. After the stage
     * completes, every block reads back successfully (SBC-3 6.5.2: WACEREQ 01b) but as data that is not
     * the old data: what was stored is now decrypted with the new key. Blocks that were never written (or
     * were deallocated) may read as zeros. The core calls it while no other command uses the backstore.
     */
    CompletionStage<Void> eraseKey();
}
