package org.jtarget.api;

import java.util.Objects;
import org.jtarget.spi.fabric.ChapCredentials;

/**
 * An initiator allowed into a TPG (LIO's node ACL).
 *
 * @param initiator the initiator name
 * @param chap      its CHAP secrets, or null when none are set
 */
public record AclInfo(String initiator, ChapCredentials chap) {
    public AclInfo {
        Objects.requireNonNull(initiator, "initiator");
    }
}
