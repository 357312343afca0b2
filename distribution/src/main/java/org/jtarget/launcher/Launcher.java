package org.jtarget.launcher;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import org.apache.felix.main.AutoProcessor;
import org.apache.felix.main.Main;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

import sun.misc.Signal;

/**
 * Starts one jtarget instance: Felix Main's start sequence (system.properties, config.properties,
 * {@link AutoProcessor}) plus what a storage daemon needs and Felix Main lacks:
 * <ul>
 * <li>one instance per home ({@link InstanceLock}), since the Felix cache has no lock;</li>
 * <li>SIGTERM stops the framework, so components deactivate (configuration saved, backstores
 * flushed), and the process then exits with status 0 rather than 143; a second SIGTERM forces
 * the exit;</li>
 * <li>a shutdown hook stops the framework on any other JVM exit (SIGINT, SIGHUP, System.exit);</li>
 * <li>the log of the previous run is kept ({@link LogRotation});</li>
 * <li>the logging bundles in {@code jtarget.boot.dir} start at start level 1, before any bundle
 * that logs (STACK.md: otherwise a component can get a no-op logger for good).</li>
 * </ul>
 *
 * <p>bin/jtarget sets {@code jtarget.home} and {@code jtarget.dist} (absolute paths),
 * {@code felix.config.properties} and {@code felix.system.properties}.
 *
 * <p>Exit status: 0 after a clean stop, 1 on a startup failure, 4 if another instance holds the home.
 */
public final class Launcher {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_LOCKED = 4;
    static final int LOG_GENERATIONS = 5;
    static final String BOOT_DIR_PROP = "jtarget.boot.dir";
    static final String AUTO_START_1 = AutoProcessor.AUTO_START_PROP + ".1";

    private Launcher() {
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run();
        } catch (StartupException e) {
            System.err.println("jtarget: " + e.getMessage());
            status = EXIT_FAILURE;
        } catch (Exception e) {
            System.err.println("jtarget: could not start: " + e);
            e.printStackTrace();
            status = EXIT_FAILURE;
        }
        System.exit(status);
    }

    private static int run() throws Exception {
        Path home = requiredDirectory("jtarget.home");
        requiredDirectory("jtarget.dist");

        InstanceLock lock;
        try {
            lock = InstanceLock.acquire(home.resolve("run").resolve("jtarget.pid"));
        } catch (InstanceLock.HeldException e) {
            System.err.println("jtarget: " + e.getMessage());
            return EXIT_LOCKED;
        }
        try {
            Main.loadSystemProperties();
            String logFile = System.getProperty("org.slf4j.simpleLogger.logFile");
            if (logFile != null && !logFile.equals("System.err") && !logFile.equals("System.out")) {
                Path log = Paths.get(logFile);
                Files.createDirectories(log.toAbsolutePath().getParent());
                LogRotation.rotate(log, LOG_GENERATIONS);
            }

            Map<String, String> config = Main.loadConfigProperties();
            if (config == null) {
                throw new StartupException("no Felix configuration found (felix.config.properties="
                        + System.getProperty(Main.CONFIG_PROPERTIES_PROP) + ")");
            }
            Main.copySystemProperties(config);
            addBootBundles(config);
            return runFramework(config, home);
        } finally {
            lock.close();
        }
    }

    private static int runFramework(Map<String, String> config, Path home) throws Exception {
        System.out.println("jtarget: starting (pid " + ProcessHandle.current().pid() + ", home " + home + ")");
        Framework framework = frameworkFactory().newFramework(config);
        framework.init();
        AutoProcessor.process(config, framework.getBundleContext());

        AtomicBoolean stopRequested = new AtomicBoolean();
        Signal.handle(new Signal("TERM"), signal -> {
            if (stopRequested.getAndSet(true)) {
                System.err.println("jtarget: second SIGTERM, exiting without waiting for a clean stop");
                Runtime.getRuntime().halt(EXIT_FAILURE);
            }
            System.err.println("jtarget: SIGTERM, stopping");
            stopQuietly(framework);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            int state = framework.getState();
            if ((state & (Bundle.STARTING | Bundle.ACTIVE | Bundle.STOPPING)) != 0) {
                stopQuietly(framework);
                try {
                    framework.waitForStop(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "jtarget shutdown hook"));

        FrameworkEvent event;
        do {
            framework.start();
            event = framework.waitForStop(0);
        } while (event.getType() == FrameworkEvent.STOPPED_UPDATE);

        if (event.getType() == FrameworkEvent.ERROR) {
            System.err.println("jtarget: framework stopped with an error: " + event.getThrowable());
            return EXIT_FAILURE;
        }
        System.out.println("jtarget: stopped");
        return EXIT_OK;
    }

    private static void stopQuietly(Framework framework) {
        try {
            framework.stop();
        } catch (BundleException | RuntimeException e) {
            System.err.println("jtarget: stopping the framework failed: " + e);
        }
    }

    /**
     * Appends the jars of {@code jtarget.boot.dir}, in name order, to {@code felix.auto.start.1}.
     * Listing them here rather than in config.properties keeps version numbers out of the config and
     * works for paths with spaces (auto.start is a space-separated list of URLs).
     */
    static void addBootBundles(Map<String, String> config) throws StartupException {
        String dir = config.get(BOOT_DIR_PROP);
        if (dir == null || dir.isBlank()) {
            return;
        }
        File[] jars = new File(dir).listFiles((d, name) -> name.endsWith(".jar"));
        if (jars == null) {
            throw new StartupException(BOOT_DIR_PROP + ": " + dir + " (expected: a directory of bundles)");
        }
        Arrays.sort(jars);
        List<String> locations = new ArrayList<>();
        String existing = config.get(AUTO_START_1);
        if (existing != null && !existing.isBlank()) {
            locations.add(existing.trim());
        }
        locations.addAll(Arrays.stream(jars).map(f -> f.toURI().toString()).collect(Collectors.toList()));
        config.put(AUTO_START_1, String.join(" ", locations));
    }

    private static FrameworkFactory frameworkFactory() throws StartupException {
        Iterator<FrameworkFactory> it = ServiceLoader.load(FrameworkFactory.class).iterator();
        if (!it.hasNext()) {
            throw new StartupException("no OSGi FrameworkFactory on the class path (expected: bin/felix.jar)");
        }
        return it.next();
    }

    private static Path requiredDirectory(String property) throws StartupException {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new StartupException("system property " + property + " is not set (start jtarget with bin/jtarget)");
        }
        Path path = Paths.get(value);
        if (!path.isAbsolute() || !Files.isDirectory(path)) {
            throw new StartupException(property + ": " + value + " (expected: an absolute path to a directory)");
        }
        return path;
    }

    /** A startup problem the user can fix; its message is printed without a stack trace. */
    static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        StartupException(String message) {
            super(message);
        }
    }
}
