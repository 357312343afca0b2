package org.jtarget.shell.internal.control;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link ControlServer} of this instance when the framework (or system) property
 * {@code jtarget.home} names its home; without it (e.g. in a test framework) there is no exec channel.
 */
@Component(immediate = true)
public final class ControlChannel {
    static final String HOME_PROPERTY = "jtarget.home";
    private static final Logger LOG = LoggerFactory.getLogger(ControlChannel.class);

    private final ControlServer server;

    @Activate
    public ControlChannel(@Reference CommandProcessor processor, BundleContext context) throws IOException {
        String home = context.getProperty(HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            LOG.info("{} is not set: no exec channel", HOME_PROPERTY);
            server = null;
            return;
        }
        server = new ControlServer(processor, Path.of(home));
        try {
            server.start();
        } catch (IOException e) {
            LOG.error("exec channel not started: {}", e.getMessage());
            throw e;
        }
    }

    @Deactivate
    void deactivate() {
        if (server != null) {
            server.close();
        }
    }
}
