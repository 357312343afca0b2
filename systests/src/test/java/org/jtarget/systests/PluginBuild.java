package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds a plugin of {@code examples/} the way its author would, outside the reactor: a copy of its folder
 * (pom.xml and src/) in the test's work directory, {@code mvn -B -o -q package} there, against the local
 * repository this build has just filled with {@code jtarget-api} and the contract test kit (they are
 * installed before systests in the reactor). Offline: the example needs nothing the reactor did not fetch.
 */
final class PluginBuild {
    /** Jars built in this JVM (failsafe runs the ITs in one fork): each example is built once per build. */
    private static final java.util.Map<String, Path> BUILT = new java.util.concurrent.ConcurrentHashMap<>();

    private PluginBuild() {
    }

    /** The Maven launcher: the one running this build ({@code maven.home}), else {@code mvn} on PATH; else skips. */
    static String mvn() {
        String home = System.getProperty("maven.home", "");
        if (!home.isEmpty() && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
            return Path.of(home, "bin", "mvn").toString();
        }
        Assumptions.assumeTrue(Cmd.onPath("mvn"), "mvn is not on PATH (and no maven.home): cannot build the plugin examples; test skipped");
        return "mvn";
    }

    /**
     * Builds {@code examples/NAME} in a copy under {@code work} and returns its jar
     * ({@code target/ARTIFACT-VERSION.jar}), or the jar an earlier test of this JVM built; fails the test with
     * Maven's output when the build fails.
     */
    static synchronized Path build(String name, Path work) throws IOException {
        Path built = BUILT.get(name);
        if (built != null && Files.isRegularFile(built)) {
            return built;
        }
        String mvn = mvn();
        Path source = Path.of(System.getProperty("jtarget.examples", "../examples")).resolve(name).toAbsolutePath().normalize();
        if (!Files.isRegularFile(source.resolve("pom.xml"))) {
            fail("no example to build: " + source.resolve("pom.xml") + " is missing");
        }
        Path copy = work.resolve("examples").resolve(name);
        copyTree(source, copy);
        String version = System.getProperty("jtarget.version", "0.1.0-SNAPSHOT");
        String repo = System.getProperty("maven.repo.local", "");
        Cmd.Result r = Cmd.run(Duration.ofMinutes(5), mvn, "-B", "-o", "-q", "-f", copy.resolve("pom.xml").toString(),
                "-Djtarget.version=" + version, repo.isEmpty() ? "-Dsystests.none" : "-Dmaven.repo.local=" + repo, "package");
        if (!r.ok()) {
            fail("building examples/" + name + " outside the reactor failed: " + r.describe());
        }
        try (Stream<Path> jars = Files.list(copy.resolve("target"))) {
            Path jar = jars.filter(p -> p.getFileName().toString().endsWith(".jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("examples/" + name + " built no jar in " + copy.resolve("target")));
            BUILT.put(name, jar);
            return jar;
        }
    }

    /** Copies pom.xml and src/ (not a target/ a developer may have built there). */
    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path rel = from.relativize(p);
                if (rel.startsWith("target")) {
                    continue;
                }
                Path dst = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(p, dst, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
