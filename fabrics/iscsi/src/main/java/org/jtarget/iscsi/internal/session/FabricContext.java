package org.jtarget.iscsi.internal.session;

import java.security.SecureRandom;
import java.util.Objects;
import org.jtarget.iscsi.internal.login.LoginGuard;
import org.jtarget.spi.fabric.TargetCore;

/** What every connection of one fabric instance shares, including the login throttle and login log. */
public record FabricContext(TargetCore core, String fabricName, SessionRegistry registry, SecureRandom random,
                            LoginGuard loginGuard) {
    public FabricContext {
        Objects.requireNonNull(core, "core");
        Objects.requireNonNull(fabricName, "fabricName");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(random, "random");
        Objects.requireNonNull(loginGuard, "loginGuard");
    }

    /** A context with the production {@link LoginGuard#standard() login guard}. */
    public FabricContext(TargetCore core, String fabricName, SessionRegistry registry, SecureRandom random) {
        this(core, fabricName, registry, random, LoginGuard.standard());
    }
}
