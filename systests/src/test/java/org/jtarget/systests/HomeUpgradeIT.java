package org.jtarget.systests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A home made by an older distribution, started by this one ({@code bin/jtarget}'s deploy/ upkeep): a bundle that
 * is new in the distribution (here the NBD export fabric, which homes created before it existed lack) is put into
 * {@code deploy/} and serves; a bundle the administrator removed from {@code deploy/} is never put back, neither
 * one removed before the upgrade nor the new one removed afterwards.
 */
class HomeUpgradeIT {
    static final String NBD_FABRIC = "jtarget-fabric-nbd";
    static final String S3 = "jtarget-backstore-s3";

    private JtargetInstance jtarget;

    @AfterEach
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    private TreeSet<String> deployed() throws IOException {
        try (Stream<Path> jars = Files.list(jtarget.home().resolve("deploy"))) {
            return jars.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar"))
                    .map(n -> n.replaceAll("-[0-9][^-]*(-SNAPSHOT)?\\.jar$", ""))
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    private void remove(String bundle) throws IOException {
        try (Stream<Path> jars = Files.list(jtarget.home().resolve("deploy"))) {
            for (Path p : jars.filter(p -> p.getFileName().toString().startsWith(bundle + "-")).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aBundleNewInTheDistributionIsAddedOnceAndARemovedOneNeverComesBack() throws Exception {
        jtarget = JtargetInstance.create("home-upgrade");
        jtarget.start();
        assertTrue(jtarget.stop(), "clean stop");
        TreeSet<String> all = deployed();
        assertTrue(all.contains(NBD_FABRIC) && all.contains(S3), () -> "a new home gets every bundle: " + all);
        Path conf = jtarget.home().resolve("conf");

        // make it a home of a distribution without the NBD fabric, as that launcher left it: no deploy-offered,
        // deploy-installed.sha256 without the fabric; and the administrator has removed the S3 backstore
        remove(NBD_FABRIC);
        Path installed = conf.resolve("deploy-installed.sha256");
        List<String> lines = Files.readAllLines(installed, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.contains(NBD_FABRIC + "-")).toList();
        Files.write(installed, lines, StandardCharsets.UTF_8);
        Files.delete(conf.resolve("deploy-offered"));
        remove(S3);

        jtarget.start();
        TreeSet<String> upgraded = deployed();
        assertTrue(upgraded.contains(NBD_FABRIC), () -> "the new NBD fabric is put into deploy/: " + upgraded);
        assertFalse(upgraded.contains(S3), "the removed S3 backstore stays removed");
        String console = Files.readString(jtarget.dir().resolve("console.log"));
        assertTrue(console.contains("deploy/" + NBD_FABRIC + "-") && console.contains("added: new in the distribution"),
                console);
        jtarget.execOk("target:create --fabric nbd export1"); // the fabric is there and serves
        assertTrue(jtarget.execOk("target:list").contains("export1"));
        jtarget.execOk("target:delete export1");
        assertTrue(jtarget.stop(), "clean stop");
        List<String> offered = Files.readAllLines(conf.resolve("deploy-offered"), StandardCharsets.UTF_8);
        assertTrue(offered.contains(NBD_FABRIC) && offered.contains(S3), () -> "recorded as offered: " + offered);

        // now the administrator removes the NBD fabric: it is not put back at the next start
        remove(NBD_FABRIC);
        jtarget.start();
        TreeSet<String> after = deployed();
        assertFalse(after.contains(NBD_FABRIC), () -> "the removed NBD fabric stays removed: " + after);
        assertFalse(after.contains(S3));
        TreeSet<String> expected = new TreeSet<>(all);
        expected.removeAll(List.of(NBD_FABRIC, S3));
        assertEquals(expected, after, "every other bundle stays");
    }
}
