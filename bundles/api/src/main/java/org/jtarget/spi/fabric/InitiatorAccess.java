package org.jtarget.spi.fabric;

import java.util.Optional;

/**
 * What a TPG allows one initiator, as the fabric needs it for login (LIO's node ACL).
 *
 * @param chapRequired whether the initiator must authenticate with CHAP (AuthMethod=CHAP only)
 * @param chap         the secrets to check, present when CHAP is required
 */
public record InitiatorAccess(boolean chapRequired, Optional<ChapCredentials> chap) {
    /** Access without authentication. */
    public static final InitiatorAccess OPEN = new InitiatorAccess(false, Optional.empty());
}
