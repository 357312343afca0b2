package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real backstore faults under a running distribution, seen through qemu's initiator (docs/faults.md): every
 * failed command completes with the sense the table promises (libiscsi prints it as "SENSE KEY:...(k)
 * ASCQ:...(0xAASQ)"), no command hangs (every qemu-io run has a deadline), and the target, its other LUNs
 * and the session go on. The file-system faults need root (tmpfs, loop devices) and skip without it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultsIT {
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(90);
    private static final int MIB = 1 << 20;

    private JtargetInstance jtarget;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("faults").start();
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    /**
     * A 64 MiB file LUN on a 16 MiB tmpfs: writes succeed until the file system is full, then fail with
     * DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT (27h/07h; qemu: ENOSPC). What was written reads back,
     * LUN 0 keeps working, and UNMAP (qemu-io discard) gives space back so that writes succeed again.
     */
    @Test
    void fullFileSystemFailsWritesWithSpaceAllocationFailed() throws Exception {
        Cmd.assumeQemuIscsi();
        Mounts.assumeRoot();
        Path mnt = Files.createDirectories(jtarget.home().getParent().resolve("full-fs"));
        Mounts.mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt.toString());
        try {
            jtarget.execOk("backstore:create full file file=" + mnt.resolve("lun.img") + " size=64M");
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 full");
            List<String> writes = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                writes.add("write -P " + pattern(i) + " " + i * MIB + " 1M");
            }
            Cmd.Result r = Qemu.run(IO_TIMEOUT, jtarget.portal(), DEFAULT_IQN, 1, writes.toArray(String[]::new));
            List<Long> acked = Qemu.wroteOffsets(r.out());
            long failed = count(r.err(), "(0x2707)");
            assertFalse(r.ok(), () -> "24 MiB fit on a 16 MiB tmpfs? " + r.describe());
            assertTrue(acked.size() >= 8 && acked.size() <= 16, () -> acked.size() + " writes of 1 MiB GOOD " + r.describe());
            assertEquals(24 - acked.size(), failed, () -> "every failed write: SPACE ALLOCATION FAILED " + r.describe());
            assertTrue(r.err().contains("SENSE KEY:DATA PROTECTION(7)"), r::describe);
            assertTrue(r.out().contains("write failed: No space left on device"), r::describe);

            List<String> reads = new ArrayList<>();
            for (long offset : acked) {
                reads.add("read -P " + pattern((int) (offset / MIB)) + " " + offset + " 1M");
            }
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, reads.toArray(String[]::new));
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "write -P 0x5a 0 64k", "read -P 0x5a 0 64k");
            // SBC-4 4.7.3.6: space comes back when blocks are unmapped (hole punched in the tmpfs file)
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "discard 0 4M", "write -P 0x77 32M 1M", "read -P 0x77 32M 1M");
            System.out.printf("FaultsIT full file system: %d writes of 1 MiB GOOD, %d CHECK CONDITION DATA PROTECT"
                    + " 27h/07h (qemu: ENOSPC), all %d read back; after UNMAP of 4 MiB a write succeeds%n",
                    acked.size(), failed, acked.size());
        } finally {
            jtarget.exec("lun:remove " + DEFAULT_IQN + " 1 1");
            jtarget.exec("backstore:delete full");
            Mounts.umount(mnt);
        }
    }

    /**
     * A file LUN on ext4 (no journal) on a loop device whose backing file is then cut to 2 MiB
     * ({@code losetup -c}): the file's blocks lie beyond the device's end, so the kernel fails them with EIO.
     * A read gets MEDIUM ERROR, UNRECOVERED READ ERROR (03h/11h/00h); a FUA write (its fsync fails) gets
     * MEDIUM ERROR, WRITE ERROR (03h/0Ch/00h); both complete; LUN 0 keeps working.
     */
    @Test
    void ioErrorsAreMediumErrors() throws Exception {
        Cmd.assumeQemuIscsi();
        Mounts.assumeRoot();
        Cmd.assumeInstalled("mkfs.ext4", "e2fsprogs");
        Path dir = jtarget.home().getParent();
        Path image = dir.resolve("eio-disk.img");
        Path mnt = Files.createDirectories(dir.resolve("eio-fs"));
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * MIB);
        }
        String loop = Mounts.attachLoop(image);
        boolean mounted = false;
        try {
            Mounts.run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", loop);
            Mounts.mount("-o", "errors=continue", loop, mnt.toString());
            mounted = true;
            Path lun = mnt.resolve("lun.img");
            Mounts.run("dd", "if=/dev/zero", "of=" + lun, "bs=1M", "count=32", "conv=fsync", "status=none");
            // unmount and mount again: the file's pages leave the page cache, reads must reach the device
            Mounts.umount(mnt);
            mounted = false;
            Mounts.mount("-o", "errors=continue", loop, mnt.toString());
            mounted = true;
            jtarget.execOk("backstore:create eio file file=" + lun);
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 2 eio");
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 2, "read 0 64k");

            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(2L * MIB);
            }
            Mounts.run("losetup", "-c", loop); // the device shrinks to 2 MiB: I/O beyond it is EIO

            Cmd.Result read = Qemu.run(IO_TIMEOUT, jtarget.portal(), DEFAULT_IQN, 2, "read 16M 64k");
            assertFalse(read.ok(), read::describe);
            assertTrue(read.err().contains("(3) ASCQ:") && read.err().contains("(0x1100)"),
                    () -> "MEDIUM ERROR, UNRECOVERED READ ERROR expected: " + read.describe());
            Cmd.Result write = Qemu.run(IO_TIMEOUT, jtarget.portal(), DEFAULT_IQN, 2, "write -f -P 0x33 20M 64k");
            assertFalse(write.ok(), write::describe);
            assertFalse(write.out().contains("wrote"), () -> "a write whose fsync failed was answered GOOD: "
                    + write.describe());
            assertTrue(write.err().contains("(3) ASCQ:") && write.err().contains("(0x0c00)"),
                    () -> "MEDIUM ERROR, WRITE ERROR expected: " + write.describe());
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "write -P 0x6b 1M 64k", "read -P 0x6b 1M 64k");
            System.out.println("FaultsIT I/O error: READ(16M) -> CHECK CONDITION MEDIUM ERROR 11h/00h, FUA WRITE(20M)"
                    + " -> CHECK CONDITION MEDIUM ERROR 0Ch/00h, both completed; LUN 0 unaffected");
        } finally {
            jtarget.exec("lun:remove " + DEFAULT_IQN + " 1 2");
            jtarget.exec("backstore:delete eio");
            if (mounted) {
                Mounts.umount(mnt);
            }
            Mounts.detachLoop(loop);
            Files.deleteIfExists(image);
        }
    }

    /**
     * The file backstore jar leaves deploy/ while one qemu-io session writes LUN 0 (write, sleep 100 ms,
     * repeated): writes in flight complete, then every write gets NOT READY, LOGICAL UNIT NOT READY, MANUAL
     * INTERVENTION REQUIRED (04h/03h); the jar comes back and the same session writes again (after the
     * MEDIUM MAY HAVE CHANGED unit attention, which qemu retries). Every write answered GOOD reads back.
     */
    @Test
    void backstoreBundleStoppedUnderIo() throws Exception {
        Cmd.assumeQemuIscsi();
        Cmd.assumeInstalled("stdbuf", "coreutils");
        Path dir = jtarget.home().getParent();
        Path deploy = jtarget.home().resolve("deploy");
        Path jar = fileBackstoreJar(deploy);
        Path parked = dir.resolve(jar.getFileName());
        Path out = dir.resolve("hot-deploy-qemu.out");
        long base = 256L * MIB;
        List<String> load = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            load.add("write -P 0x21 " + (base + i * 65536L) + " 64k");
            load.add("sleep 100");
        }
        Process qemu = Qemu.start(out, jtarget.portal(), DEFAULT_IQN, 0, load.toArray(String[]::new));
        boolean jarAway = false;
        try {
            await("qemu-io writing", () -> Qemu.wroteOffsets(Qemu.read(out)).size() >= 5, () -> Qemu.read(out));
            Files.move(jar, parked);
            jarAway = true;
            await("LUN 0 offline", () -> backstoreState().equals("offline"), this::backstoreList);
            await("NOT READY at the initiator", () -> Qemu.read(out).contains("(0x0403)"), () -> Qemu.read(out));
            Files.move(parked, jar);
            jarAway = false;
            await("LUN 0 online again", () -> backstoreState().equals("online"), this::backstoreList);
            await("writes GOOD after the return", () -> {
                String s = Qemu.read(out);
                return s.lastIndexOf("\nwrote ") > s.lastIndexOf("(0x0403)");
            }, () -> Qemu.read(out));
            assertTrue(qemu.waitFor(IO_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
                    () -> "qemu-io did not finish its commands: a command hung\n" + Qemu.read(out));
        } finally {
            if (jarAway) {
                Files.move(parked, jar);
            }
            Qemu.stop(qemu, Duration.ofSeconds(1));
        }
        String output = Qemu.read(out);
        List<Long> acked = Qemu.wroteOffsets(output);
        long notReady = count(output, "SENSE KEY:NOT READY(2) ASCQ:");
        assertEquals(notReady, count(output, "(0x0403)"), () -> "NOT READY other than 04h/03h:\n" + output);
        assertEquals(250, acked.size() + notReady, () -> "every write GOOD or NOT READY:\n" + output);
        List<String> reads = new ArrayList<>();
        for (long offset : acked) {
            reads.add("read -P 0x21 " + offset + " 64k");
        }
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, reads.toArray(String[]::new));
        System.out.printf("FaultsIT bundle stopped under I/O: one session, %d writes GOOD, %d CHECK CONDITION NOT READY"
                + " 04h/03h while the jar was away, then GOOD again; all %d GOOD writes read back%n",
                acked.size(), notReady, acked.size());
    }

    // helpers

    private static String pattern(int i) {
        return "0x" + Integer.toHexString(0x40 + i);
    }

    private static long count(String s, String what) {
        long n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static Path fileBackstoreJar(Path deploy) throws IOException {
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(deploy, "jtarget-backstore-file-*.jar")) {
            for (Path p : jars) {
                return p;
            }
        }
        fail("no file backstore jar in " + deploy);
        return null;
    }

    private String backstoreList() {
        return jtarget.exec("backstore:list").out();
    }

    /** STATE of the default backstore in {@code backstore:list}. */
    private String backstoreState() {
        for (String line : backstoreList().split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length > 2 && cols[0].equals("default")) {
                return cols[2];
            }
        }
        return "";
    }

    /** Polls {@code condition} every 200 ms until it holds; fails after 60 s with {@code state}. */
    private static void await(String what, BooleanSupplier condition, Supplier<String> state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not reached within 60 s: " + what + "\n" + state.get());
            }
            Thread.sleep(200);
        }
    }
}
