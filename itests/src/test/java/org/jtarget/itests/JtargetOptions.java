package org.jtarget.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;

/**
 * The container every itest runs in: what the distribution's {@code bundle/} and {@code deploy/} folders
 * hold, our bundles taken from the reactor by file URI, and a fresh {@code jtarget.home} per test class.
 * Runs on the host side (in {@code @Configuration}); the same JVM then hosts the Felix container.
 */
final class JtargetOptions {
    /** Reactor modules installed by file URI, as {@code folder/artifactId}. */
    static final List<String> OUR_BUNDLES = List.of(
            "bundles/api/jtarget-api", "bundles/core/jtarget-core", "bundles/config/jtarget-config",
            "bundles/shell/jtarget-shell", "fabrics/iscsi/jtarget-fabric-iscsi",
            "backstores/file/jtarget-backstore-file", "backstores/memory/jtarget-backstore-memory",
            "fabrics/nbd/jtarget-fabric-nbd");
    /** System property carrying the port the test's default portal and its own portals use. */
    static final String PORT_PROPERTY = "jtarget.itests.port";

    private JtargetOptions() {
    }

    /** Location URI of one of our bundles in the reactor, e.g. {@code file:/.../jtarget-core-0.1.0-SNAPSHOT.jar}. */
    static String ourBundle(String module) {
        String root = System.getProperty("jtarget.itests.root", "..");
        String version = System.getProperty("jtarget.itests.version", "0.1.0-SNAPSHOT");
        int slash = module.lastIndexOf('/');
        Path jar = Path.of(root, module.substring(0, slash), "target", module.substring(slash + 1) + "-" + version + ".jar");
        return jar.toAbsolutePath().normalize().toUri().toString();
    }

    static Option[] container(String testName) {
        Path home = freshHome(testName);
        int port = freePort();
        return options(
                systemProperty("jtarget.home").value(home.toString()),
                systemProperty("jtarget.portal").value("127.0.0.1:" + port),
                systemProperty(PORT_PROPERTY).value(Integer.toString(port)),
                systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("info"),
                // home/deploy, watched as in the distribution (fabric and backstore bundles are dropped there)
                systemProperty("felix.fileinstall.dir").value(home.resolve("deploy").toString()),
                systemProperty("felix.fileinstall.poll").value("200"),
                systemProperty("felix.fileinstall.noInitialDelay").value("true"),
                systemProperty("org.slf4j.simpleLogger.logFile").value(home.resolve("logs/jtarget.log").toString()),

                // Logging first, before anything logs (STACK.md: SPI Fly mediates SLF4J 2's ServiceLoader).
                mavenBundle("org.apache.aries.spifly", "org.apache.aries.spifly.dynamic.framework.extension")
                        .versionAsInProject().startLevel(1).noStart(),
                mavenBundle("org.slf4j", "slf4j-api").versionAsInProject().startLevel(1),
                mavenBundle("org.slf4j", "slf4j-simple").versionAsInProject().startLevel(1),

                // Felix services
                mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.configadmin").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.fileinstall").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.runtime").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.command").versionAsInProject(),

                // Third-party libraries
                mavenBundle("com.google.code.gson", "gson").versionAsInProject(),
                mavenBundle("io.netty", "netty-common").versionAsInProject(),
                mavenBundle("io.netty", "netty-buffer").versionAsInProject(),
                mavenBundle("io.netty", "netty-resolver").versionAsInProject(),
                mavenBundle("io.netty", "netty-transport").versionAsInProject(),
                mavenBundle("io.netty", "netty-transport-native-unix-common").versionAsInProject(),
                mavenBundle("io.netty", "netty-codec").versionAsInProject(),
                mavenBundle("io.netty", "netty-handler").versionAsInProject(),
                mavenBundle("net.java.dev.jna", "jna").versionAsInProject(),

                // Ours
                bundle(ourBundle(OUR_BUNDLES.get(0))),
                bundle(ourBundle(OUR_BUNDLES.get(1))),
                bundle(ourBundle(OUR_BUNDLES.get(2))),
                bundle(ourBundle(OUR_BUNDLES.get(3))),
                bundle(ourBundle(OUR_BUNDLES.get(4))),
                bundle(ourBundle(OUR_BUNDLES.get(5))),
                bundle(ourBundle(OUR_BUNDLES.get(6))),
                bundle(ourBundle(OUR_BUNDLES.get(7))),

                junitBundles());
    }

    /** {@code target/itest-work/<test>}, emptied: the config bundle writes conf/jtarget.json there. */
    private static Path freshHome(String testName) {
        Path home = Path.of(System.getProperty("jtarget.itests.work", "target/itest-work"), testName)
                .toAbsolutePath().normalize();
        try {
            if (Files.exists(home)) {
                try (Stream<Path> files = Files.walk(home)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            Files.createDirectories(home.resolve("logs"));
            Files.createDirectories(home.resolve("data"));
            Files.createDirectories(home.resolve("deploy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return home;
    }

    /**
     * A free port below Linux's ephemeral range (32768-60999 by default): it stays free until the container binds
     * it, whereas a freed ephemeral port may be given to any client connection meanwhile.
     */
    private static int freePort() {
        for (int i = 0; i < 200; i++) {
            int port = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12000);
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // in use: another one
            }
        }
        throw new UncheckedIOException(new IOException("no free port on 127.0.0.1 in 20000-31999 after 200 tries"));
    }
}
