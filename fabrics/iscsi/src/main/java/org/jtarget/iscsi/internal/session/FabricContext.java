package org.jtarget.iscsi.internal.session;

import java.security.SecureRandom;
import java.util.Objects;
import org.jtarget.spi.fabric.TargetCore;

/** What every connection of one fabric instance shares. */
public record FabricContext(TargetCore core, String fabricName, SessionRegistry registry, SecureRandom random) {
    public FabricContext {
        Objects.requireNonNull(core, "core");
        Objects.requireNonNull(fabricName, "fabricName");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(random, "random");
    }
}
