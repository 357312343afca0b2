package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} of the target JVM under a write load loses no write it acknowledged after FUA or SYNCHRONIZE
 * CACHE. One qemu-io session (cache mode writeback: a plain write is WRITE with FUA=0) writes groups of four
 * 64 KiB blocks, each at its own offset with its own pattern: a FUA write ({@code write -f}: FUA=1, SBC-3
 * 5.39), two plain writes, {@code flush} (SYNCHRONIZE CACHE, SBC-3 5.22). A FUA write counts as acknowledged
 * when qemu-io printed "wrote" for it; the plain writes of a group count once the next group's FUA write was
 * acknowledged (qemu-io runs its commands one after the other, so the flush between them had completed; a
 * failed flush would make the test stricter, not laxer). The jtarget java process (its PID from
 * run/jtarget.pid, checked to be the JVM and not a wrapper) gets SIGKILL in the middle; the target restarts
 * on the same home and every acknowledged write must read back with its pattern.
 *
 * <p>What the first test proves: an acknowledged write is in the file, not in a buffer of the JVM; the
 * configuration and the LUN survive a crash of the process; nothing a restart does (opening, locking, sizing
 * the file) damages written data. What it cannot prove: the kernel's page cache survives SIGKILL, so the data
 * would be there even had jtarget skipped fsync. The second test closes that gap as far as a test can without
 * cutting power: it checks what had reached the block device (a loop device) at the moment of the kill, with
 * a control showing that writes never flushed had not. Neither simulates a disk's volatile write cache or a
 * torn write. FileBackstoreFaultsTest#fuaSynchronizeCacheAndWriteThroughReachForce checks the code path:
 * FUA and SYNCHRONIZE CACHE call FileChannel.force, and with write_cache=false (WCE=0 in the caching mode
 * page) every write does.
 */
class DurabilityIT {
    private static final int GROUPS = 3000;
    private static final int KILL_AFTER_ACKS = 300;
    private static final long BLOCK = 65536;

    private JtargetInstance jtarget;

    @AfterEach
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @Test
    void killNineLosesNoWriteAcknowledgedAfterFuaOrSynchronizeCache() throws Exception {
        Cmd.assumeQemuIscsi();
        Cmd.assumeInstalled("stdbuf", "coreutils");
        jtarget = JtargetInstance.create("durability").start();
        Load load = loadAndKill(0);
        jtarget.start();
        long verified = verifyThroughTarget(0, load.acked);
        System.out.printf("DurabilityIT: kill -9 of java pid %d after %d writes completed; %d acknowledged after FUA"
                + " or SYNCHRONIZE CACHE, %d verified after the restart%n", load.pid, load.completed,
                load.acked.size(), verified);
    }

    /**
     * The same load on a file LUN on ext4 on a loop device; right after the SIGKILL the loop device's backing
     * file is copied: that copy holds what the "disk" had received, not the page cache of the ext4 mount
     * (dirty pages of the LUN's file that were never written back are missing from it), which is what a power
     * loss would leave (bar the disk's own volatile cache, which a file does not model). After e2fsck replays
     * the journal of the copy, every acknowledged write must be in the LUN's file there: only an fsync(2)
     * that really ran before the acknowledgement gets it there within the 30 s the kernel keeps dirty pages.
     * The target then restarts and serves the same data. Needs root (loop device, mount).
     */
    @Test
    void acknowledgedWritesAreOnTheDeviceWhenTheJvmDies() throws Exception {
        Cmd.assumeQemuIscsi();
        Cmd.assumeInstalled("stdbuf", "coreutils");
        Cmd.assumeInstalled("debugfs", "e2fsprogs");
        Mounts.assumeRoot();
        jtarget = JtargetInstance.create("durability-device").start();
        Path dir = jtarget.home().getParent();
        Path image = dir.resolve("disk.img");
        Path mnt = Files.createDirectories(dir.resolve("disk"));
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(512L << 20);
        }
        String loop = Mounts.attachLoop(image);
        boolean mounted = false;
        try {
            Mounts.run("mkfs.ext4", "-q", "-F", loop);
            Mounts.mount(loop, mnt.toString());
            mounted = true;
            jtarget.execOk("backstore:create ondisk file file=" + mnt.resolve("lun.img") + " size=256M");
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 ondisk");
            // control: plain writes to another file LUN on the same ext4, neither FUA nor flushed (a force of
            // the load's file would flush them too): they stay dirty in the page cache
            jtarget.execOk("backstore:create control file file=" + mnt.resolve("control.img") + " size=16M");
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 2 control");
            List<String> control = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                control.add("write -P 0xee " + i * BLOCK + " 64k");
            }
            Cmd.Result cached = Qemu.runWithoutFlush(Duration.ofSeconds(60), jtarget.portal(), DEFAULT_IQN, 2,
                    control.toArray(String[]::new));
            assertEquals(16, Qemu.wroteOffsets(cached.out()).size(), cached::describe);
            long controlWritten = System.nanoTime();
            Load load = loadAndKill(1);

            Path snapshot = dir.resolve("disk-at-kill.img");
            Mounts.run("cp", "--sparse=always", image.toString(), snapshot.toString());
            long controlAgeMillis = (System.nanoTime() - controlWritten) / 1_000_000;
            Cmd.Result fsck = Cmd.run(Duration.ofSeconds(120), "e2fsck", "-fy", snapshot.toString());
            assertTrue(fsck.exit() <= 1, fsck::describe); // 0: clean, 1: errors corrected (journal replayed)
            Path lun = dir.resolve("lun-at-kill.img");
            Mounts.run("debugfs", "-R", "dump /lun.img " + lun, snapshot.toString());
            Path controlLun = dir.resolve("control-at-kill.img");
            Mounts.run("debugfs", "-R", "dump /control.img " + controlLun, snapshot.toString());
            long onDevice = 0;
            List<String> missing = new ArrayList<>();
            try (RandomAccessFile f = new RandomAccessFile(lun.toFile(), "r")) {
                for (Map.Entry<Long, String> w : load.acked.entrySet()) {
                    if (holds(f, w.getKey(), Integer.decode(w.getValue()))) {
                        onDevice++;
                    } else {
                        missing.add(w.getKey() + " (" + w.getValue() + ")");
                    }
                }
                long controlOnDevice = 0;
                try (RandomAccessFile c = new RandomAccessFile(controlLun.toFile(), "r")) {
                    for (int i = 0; i < 16; i++) {
                        controlOnDevice += holds(c, i * BLOCK, 0xee) ? 1 : 0;
                    }
                }
                assertEquals(List.of(), missing, "acknowledged writes not on the device at the time of the kill");
                long expireMillis = 10 * Long.parseLong(Files.readString(Path.of("/proc/sys/vm/dirty_expire_centisecs")).strip());
                if (controlAgeMillis < expireMillis / 2) {
                    // younger than the kernel's writeback age: had they reached the copy, it would show page cache
                    assertTrue(controlOnDevice < 16, "the copy holds writes never flushed (" + controlAgeMillis
                            + " ms old, writeback after " + expireMillis + " ms): it cannot tell what fsync did");
                }
                jtarget.start();
                long verified = verifyThroughTarget(1, load.acked);
                System.out.printf("DurabilityIT on a device: kill -9 of java pid %d after %d writes completed; %d"
                        + " acknowledged after FUA or SYNCHRONIZE CACHE, %d on the device at the kill, %d verified"
                        + " after the restart; control: %d of 16 unflushed writes had reached the device%n",
                        load.pid, load.completed, load.acked.size(), onDevice, verified, controlOnDevice);
            }
        } finally {
            if (jtarget != null) {
                jtarget.stop(); // before the unmount: it holds the LUN's file
            }
            if (mounted) {
                Mounts.umount(mnt);
            }
            Mounts.detachLoop(loop);
            Files.deleteIfExists(image);
            Files.deleteIfExists(dir.resolve("disk-at-kill.img"));
            Files.deleteIfExists(dir.resolve("lun-at-kill.img"));
            Files.deleteIfExists(dir.resolve("control-at-kill.img"));
        }
    }

    /** What a load run left: the writes acknowledged as durable, how many completed, the killed pid. */
    private record Load(Map<Long, String> acked, int completed, long pid) {
    }

    /** Runs the write load on {@code lun} and SIGKILLs the target's JVM once {@link #KILL_AFTER_ACKS} completed. */
    private Load loadAndKill(int lun) throws Exception {
        Path out = jtarget.home().getParent().resolve("load-qemu-" + lun + ".out");
        List<String> load = new ArrayList<>();
        for (int g = 0; g < GROUPS; g++) {
            load.add("write -f -P " + pattern(g, 0) + " " + offset(g, 0) + " 64k");
            load.add("write -P " + pattern(g, 1) + " " + offset(g, 1) + " 64k");
            load.add("write -P " + pattern(g, 2) + " " + offset(g, 2) + " 64k");
            load.add("flush");
        }
        Process qemu = Qemu.startWriteback(out, jtarget.portal(), DEFAULT_IQN, lun, load.toArray(String[]::new));
        long pid;
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (Qemu.wroteOffsets(Qemu.read(out)).size() < KILL_AFTER_ACKS) {
                if (!qemu.isAlive() || System.nanoTime() > deadline) {
                    fail("qemu-io did not get " + KILL_AFTER_ACKS + " writes done:\n" + tail(Qemu.read(out)));
                }
                Thread.sleep(50);
            }
            pid = killJava();
        } finally {
            // without its target qemu-io tries to reconnect; what it printed so far is in the file (line-buffered)
            Qemu.stop(qemu, Duration.ofSeconds(5));
        }
        String output = Qemu.read(out);
        Map<Long, String> acked = acknowledged(output);
        assertTrue(acked.size() >= KILL_AFTER_ACKS / 2, () -> acked.size() + " acknowledged:\n" + tail(output));
        return new Load(acked, Qemu.wroteOffsets(output).size(), pid);
    }

    /** Reads every acknowledged write back through the restarted target; returns how many matched. */
    private long verifyThroughTarget(int lun, Map<Long, String> acked) {
        List<String> reads = new ArrayList<>();
        acked.forEach((offset, pattern) -> reads.add("read -P " + pattern + " " + offset + " 64k"));
        String verified = Qemu.io(jtarget.portal(), DEFAULT_IQN, lun, reads.toArray(String[]::new));
        long ok = verified.lines().filter(l -> l.startsWith("read 65536/65536 bytes at offset")).count();
        assertEquals(acked.size(), ok, verified);
        return ok;
    }

    /** Whether the 64 KiB at {@code offset} of {@code f} are all {@code pattern}. */
    private static boolean holds(RandomAccessFile f, long offset, int pattern) throws IOException {
        byte[] b = new byte[(int) BLOCK];
        if (offset + BLOCK > f.length()) {
            return false;
        }
        f.seek(offset);
        f.readFully(b);
        for (byte x : b) {
            if ((x & 0xff) != pattern) {
                return false;
            }
        }
        return true;
    }

    /** SIGKILL to the PID in run/jtarget.pid once it is known to be the java process; waits until it is gone. */
    private long killJava() throws Exception {
        long pid = Long.parseLong(Files.readString(jtarget.home().resolve("run/jtarget.pid")).strip());
        String cmdline = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
        assertTrue(cmdline.contains("java") && cmdline.contains("-Djtarget.home="),
                () -> "run/jtarget.pid names " + pid + ", not the jtarget JVM: " + cmdline.replace('\0', ' '));
        ProcessHandle java = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("pid " + pid + " is gone"));
        assertTrue(java.destroyForcibly(), "SIGKILL to " + pid + " refused");
        java.onExit().get(30, TimeUnit.SECONDS);
        return pid;
    }

    /**
     * Offset to pattern of the acknowledged writes: every FUA write qemu-io reported, and the plain writes of
     * every group whose flush was followed by a reported write (the next group's FUA write).
     */
    static Map<Long, String> acknowledged(String output) {
        List<Long> wrote = Qemu.wroteOffsets(output);
        Map<Long, String> acked = new TreeMap<>();
        for (long offset : wrote) {
            int g = (int) (offset / BLOCK / 4);
            int k = (int) (offset / BLOCK % 4);
            if (k == 0) {
                acked.put(offset, pattern(g, 0));
                if (g > 0 && wrote.contains(offset(g - 1, 1)) && wrote.contains(offset(g - 1, 2))) {
                    acked.put(offset(g - 1, 1), pattern(g - 1, 1));
                    acked.put(offset(g - 1, 2), pattern(g - 1, 2));
                }
            }
        }
        return acked;
    }

    private static long offset(int group, int k) {
        return (group * 4L + k) * BLOCK;
    }

    /** A pattern byte per write (1..251), so that a block from a neighbour or an earlier run does not pass. */
    private static String pattern(int group, int k) {
        return "0x" + Integer.toHexString(1 + (group * 4 + k) * 7 % 251);
    }

    private static String tail(String s) {
        return s.length() <= 3000 ? s : "..." + s.substring(s.length() - 3000);
    }
}
