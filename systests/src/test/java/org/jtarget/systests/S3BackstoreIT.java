package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The s3 backstore in the distribution, against S3Proxy on 127.0.0.1 (filesystem backend, authentication on):
 * created through the shell, exported over iSCSI, written and read with qemu-io; what the LUN stores is checked
 * in the server's folder (bucket = folder, object = file). A clean restart and a {@code kill -9} after
 * acknowledged writes without FUA or SYNCHRONIZE CACHE (while the S3 server is down, so that they can only be in
 * the local cache) lose nothing. Creation with wrong credentials, a missing bucket or an unreachable server is
 * refused with a message naming the cause.
 */
class S3BackstoreIT {
    private static final int MIB = 1 << 20;
    private JtargetInstance jtarget;
    private S3Server s3;

    @AfterEach
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
        if (s3 != null) {
            s3.stop();
        }
    }

    private String s3Parameters() {
        return " endpoint=" + s3.endpoint() + " access_key=" + S3Server.ACCESS_KEY + " secret_key=" + S3Server.SECRET_KEY;
    }

    @Test
    void anS3LunServesIscsiAndSurvivesRestartAndKillNine() throws Exception {
        Cmd.assumeQemuIscsi();
        jtarget = JtargetInstance.create("s3");
        s3 = new S3Server(jtarget.dir().resolve("s3")).start();
        Path lun = Files.createDirectories(s3.data().resolve("luns")).resolve("vol");
        jtarget.start();
        jtarget.execOk("backstore:create vol s3 bucket=luns size=64M" + s3Parameters());
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 vol");
        String list = jtarget.execOk("backstore:list");
        assertTrue(list.contains("secret_key=***"), list);
        assertFalse(list.contains(S3Server.SECRET_KEY), list);
        Path conf = jtarget.home().resolve("conf/jtarget.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)));

        // qemu-io's default cache mode (writethrough) sets FUA: the objects are in S3 when each write completes
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "write -P 0xa5 0 64k", "write -P 0x5a 3M 1M",
                "read -P 0xa5 0 64k", "read -P 0 64k 64k", "read -P 0x5a 3M 1M");
        assertEquals(Set.of(key(0), key(3), "jtarget.json", "jtarget.lease"), files(lun), "never-written blocks store nothing");
        byte[] first = Files.readAllBytes(lun.resolve(key(0)));
        assertEquals(MIB, first.length);
        assertTrue(all(first, 0, 65536, 0xa5) && all(first, 65536, MIB, 0), "object 0: 64 KiB of 0xa5, then zeros");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "discard 3M 1M");
        assertFalse(Files.exists(lun.resolve(key(3))), "UNMAP of a whole object deletes it");

        assertTrue(jtarget.stop(), "clean stop");
        assertFalse(Files.exists(lun.resolve("jtarget.lease")), "lease released at a clean stop");
        jtarget.start();
        awaitReadable();
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "read -P 0xa5 0 64k", "read -P 0 3M 1M");

        // S3 down: writes of whole objects (no download needed) without FUA or flush are acknowledged from the
        // local cache; then the target's JVM gets SIGKILL
        s3.stop();
        long t0 = System.nanoTime();
        Cmd.Result unreachable = Qemu.run(Duration.ofSeconds(120), jtarget.portal(), DEFAULT_IQN, 1, "read 20M 4k");
        assertTrue((unreachable.out() + unreachable.err()).contains("read failed: Input/output error"),
                () -> "a read of an object not cached, with S3 down: " + unreachable.describe());
        long failedAfterMillis = (System.nanoTime() - t0) / 1_000_000;
        Cmd.Result cached = Qemu.runWithoutFlush(Duration.ofSeconds(60), jtarget.portal(), DEFAULT_IQN, 1,
                "write -P 0x77 8M 1M", "write -P 0x78 9M 1M");
        assertEquals(List.of(8L * MIB, 9L * MIB), Qemu.wroteOffsets(cached.out()), cached::describe);
        long pid = killJava();
        assertFalse(Files.exists(lun.resolve(key(8))), "uploaded although the server was down");
        s3.start();
        jtarget.start(); // the backstore uploads what the cache file holds dirty when it opens
        awaitReadable();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!(Files.exists(lun.resolve(key(8))) && Files.exists(lun.resolve(key(9))))) {
            if (System.nanoTime() > deadline) {
                fail("objects 8 and 9 not uploaded after the restart: " + files(lun) + "\n" + jtarget.consoleTail());
            }
            Thread.sleep(100);
        }
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "read -P 0x77 8M 1M", "read -P 0x78 9M 1M", "read -P 0xa5 0 64k");
        byte[] eight = new byte[MIB];
        Arrays.fill(eight, (byte) 0x77);
        assertArrayEquals(eight, Files.readAllBytes(lun.resolve(key(8))));
        jtarget.execOk("lun:remove " + DEFAULT_IQN + " 1 1");
        jtarget.execOk("backstore:delete --destroy vol");
        assertEquals(Set.of(), files(lun), "backstore:delete --destroy deletes the objects");
        assertNoSecretIn(jtarget.home().resolve("logs"));
        assertNoSecretIn(jtarget.dir().resolve("console.log"));
        System.out.printf("S3BackstoreIT: with S3 down a read of an uncached object failed after %d ms (retries,"
                + " then CHECK CONDITION); kill -9 of java pid %d after 2 writes acknowledged from the cache; both"
                + " uploaded at the restart and read back, then destroyed%n", failedAfterMillis, pid);
    }

    @Test
    void creationSaysWhetherCredentialsBucketOrServerAreWrong() throws Exception {
        jtarget = JtargetInstance.create("s3-errors");
        s3 = new S3Server(jtarget.dir().resolve("s3")).start();
        Files.createDirectories(s3.data().resolve("luns"));
        jtarget.start();
        String wrongSecret = "Not-The-Secret-4242";
        Cmd.Result r = jtarget.exec("backstore:create bad s3 bucket=luns size=64M endpoint=" + s3.endpoint()
                + " access_key=" + S3Server.ACCESS_KEY + " secret_key=" + wrongSecret);
        assertFalse(r.ok(), r::describe);
        assertTrue(r.describe().contains("access_key: " + S3Server.ACCESS_KEY + " (the server " + s3.endpoint()
                + " refused the credentials: HTTP 403"), r::describe);
        assertFalse((r.out() + r.err()).contains(wrongSecret), r::describe); // describe() shows the command line
        r = jtarget.exec("backstore:create bad s3 bucket=nobucket size=64M" + s3Parameters());
        assertFalse(r.ok(), r::describe);
        assertTrue(r.describe().contains("bucket: nobucket (does not exist at " + s3.endpoint() + ")"), r::describe);
        int port = JtargetInstance.freePort();
        r = jtarget.exec("backstore:create bad s3 bucket=luns size=64M endpoint=http://127.0.0.1:" + port
                + " access_key=" + S3Server.ACCESS_KEY + " secret_key=" + S3Server.SECRET_KEY);
        assertFalse(r.ok(), r::describe);
        assertTrue(r.describe().contains("endpoint: http://127.0.0.1:" + port + " (unreachable"), r::describe);
        assertFalse(jtarget.execOk("backstore:list").contains("bad"), "a refused backstore was kept");
        assertNoSecretIn(jtarget.home().resolve("logs"));
        assertFalse(Files.readString(jtarget.dir().resolve("console.log")).contains(wrongSecret));
    }

    /** Waits until LUN 1 reads (the s3 backstore opens asynchronously when the configuration is restored). */
    private void awaitReadable() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            Cmd.Result r = Qemu.run(Duration.ofSeconds(30), jtarget.portal(), DEFAULT_IQN, 1, "read 0 512");
            if (r.ok()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("LUN 1 not readable after the restart: " + r.describe() + "\n" + jtarget.consoleTail());
            }
            Thread.sleep(200);
        }
    }

    /** SIGKILL to the JVM named in run/jtarget.pid; waits until it is gone. */
    private long killJava() throws Exception {
        long pid = Long.parseLong(Files.readString(jtarget.home().resolve("run/jtarget.pid")).strip());
        ProcessHandle java = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("pid " + pid + " is gone"));
        assertTrue(java.info().command().orElse("").contains("java"), "run/jtarget.pid is not the JVM");
        assertTrue(java.destroyForcibly(), "SIGKILL to " + pid + " refused");
        java.onExit().get(30, TimeUnit.SECONDS);
        jtarget.stop(); // reaps the launcher
        return pid;
    }

    private static void assertNoSecretIn(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> s = Files.walk(path)) {
            for (Path p : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                assertFalse(Files.readString(p, StandardCharsets.ISO_8859_1).contains(S3Server.SECRET_KEY),
                        "the S3 secret key is in " + p);
            }
        }
    }

    private static String key(long object) {
        return String.format("%016x", object);
    }

    private static Set<String> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static boolean all(byte[] b, int from, int to, int value) {
        for (int i = from; i < to; i++) {
            if ((b[i] & 0xff) != value) {
                return false;
            }
        }
        return true;
    }
}
