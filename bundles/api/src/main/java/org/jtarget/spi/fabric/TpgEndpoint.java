package org.jtarget.spi.fabric;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** A target portal group as a fabric sees it: a snapshot, so fetch it again at each login. */
@ProviderType
public interface TpgEndpoint {
    /** The target's name, e.g. {@code iqn.2026-11.org.jtarget:default}. */
    String targetName();

    /** The target portal group tag (1..65535). */
    int tag();

    /** The addresses the TPG listens on, for SendTargets (TargetAddress=host:port,tag). */
    List<InetSocketAddress> portals();

    /** Fabric parameters set by the user on this TPG (e.g. iSCSI keys such as MaxRecvDataSegmentLength). */
    Map<String, String> parameters();

    /** The access of an initiator, or empty when it may not log in (no ACL and demo mode off). */
    Optional<InitiatorAccess> access(String initiatorName);
}
