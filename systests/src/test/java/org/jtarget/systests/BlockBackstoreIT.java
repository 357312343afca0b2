package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The block backstore (issue 7 §2) in the started distribution on a loop device over a sparse file (root
 * only): qemu's initiator writes and reads patterns through iSCSI, the data land in the backing file, UNMAP
 * from the initiator (qemu-io discard) frees the backing file's blocks, and a second backstore on the same
 * device, or one on a mounted device, is refused with who uses it. With {@code unmap=discard} UNMAP is a
 * BLKDISCARD and the LUN reports LBPRZ 0 to a real initiator.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BlockBackstoreIT {
    private static final int MIB = 1 << 20;
    private JtargetInstance jtarget;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("block").start();
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @Test
    void servesALoopDeviceOverIscsiWithUnmapReachingTheBackingFile() throws Exception {
        Cmd.assumeQemuIscsi();
        Mounts.assumeRoot();
        Path image = jtarget.home().getParent().resolve("block-backing.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(256L * MIB);
        }
        String loop = Mounts.attachLoop(image);
        try {
            jtarget.execOk("backstore:create d1 block device=" + loop);
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 d1");
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 1,
                    "write -P 0xa5 0 1M", "write -P 0x5a 100M 8M", "write -P 0x3c 255M 1M", "flush",
                    "read -P 0xa5 0 1M", "read -P 0x5a 100M 8M", "read -P 0x3c 255M 1M");
            assertArrayEquals(filled(0xa5, MIB), bytesAt(image, 0, MIB), "the data reached the backing file");
            assertArrayEquals(filled(0x3c, MIB), bytesAt(image, 255L * MIB, MIB), "the last MiB too");
            long written = allocatedBytes(image);
            assertTrue(written >= 10L * MIB, "10 MiB allocated in the backing file: " + written);

            Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "discard 100M 8M", "read -P 0 100M 8M", "read -P 0xa5 0 1M");
            long after = allocatedBytes(image);
            assertTrue(after <= written - 8L * MIB, "UNMAP of 8 MiB freed the backing file's blocks: " + written
                    + " -> " + after + " bytes");

            Cmd.Result second = jtarget.exec("backstore:create d2 block device=" + loop);
            String said = second.out() + second.err();
            assertFalse(second.ok(), second::describe);
            assertTrue(said.contains("device: " + loop + " (in use: served by backstore d1;"), second::describe);
            System.out.printf("BlockBackstoreIT: %s served over iSCSI, 10 MiB written and read back, UNMAP of 8 MiB"
                    + " took the backing file from %d to %d allocated bytes; a second backstore refused: %s%n",
                    loop, written, after, said.strip());
        } finally {
            jtarget.exec("lun:remove " + DEFAULT_IQN + " 1 1");
            jtarget.exec("backstore:delete d1");
            Mounts.detachLoop(loop);
        }
    }

    @Test
    void unmapDiscardIsABlkdiscardAndTheLunSaysDeallocatedBlocksAreUndefined() throws Exception {
        Cmd.assumeQemuIscsi();
        Cmd.assumeInstalled("iscsi-inq", "libiscsi-bin");
        Mounts.assumeRoot();
        Path image = jtarget.home().getParent().resolve("block-discard.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * MIB);
        }
        String loop = Mounts.attachLoop(image);
        try {
            jtarget.execOk("backstore:create d3 block device=" + loop + " unmap=discard");
            jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 3 d3");
            Cmd.Result b2 = Cmd.run("iscsi-inq", "-e", "1", "-c", "178", jtarget.url(3)); // VPD B2h, in decimal
            assertTrue(b2.ok(), b2::describe);
            assertTrue(b2.out().contains("lbpu:1") && b2.out().contains("lbprz:0"),
                    "VPD B2h: UNMAP offered, LBPRZ 0: " + b2.out());
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 3, "write -P 0x77 0 16M", "flush");
            long written = allocatedBytes(image);
            // qemu's zeroing with unmap allowed: WRITE SAME with UNMAP, which must read back zeros all the same
            Qemu.io(jtarget.portal(), DEFAULT_IQN, 3, "discard 8M 8M", "write -z -u 0 1M", "read -P 0 0 1M",
                    "read -P 0x77 1M 7M");
            long after = allocatedBytes(image);
            assertTrue(after <= written - 8L * MIB, "BLKDISCARD of 8 MiB freed the backing file's blocks: " + written
                    + " -> " + after + " bytes");
            System.out.printf("BlockBackstoreIT: unmap=discard on %s: VPD B2h %s; discard of 8 MiB took the backing"
                    + " file from %d to %d bytes; WRITE SAME with UNMAP read back zeros%n", loop,
                    b2.out().replaceAll("\\s+", " ").strip(), written, after);
        } finally {
            jtarget.exec("lun:remove " + DEFAULT_IQN + " 1 3");
            jtarget.exec("backstore:delete d3");
            Mounts.detachLoop(loop);
        }
    }

    @Test
    void refusesAMountedDevice() throws Exception {
        Mounts.assumeRoot();
        Cmd.assumeInstalled("mkfs.ext4", "e2fsprogs");
        Path dir = jtarget.home().getParent();
        Path image = dir.resolve("block-mounted.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * MIB);
        }
        String loop = Mounts.attachLoop(image);
        Path mnt = Files.createDirectories(dir.resolve("block-mnt"));
        boolean mounted = false;
        try {
            Mounts.run("mkfs.ext4", "-q", "-F", loop);
            Mounts.mount(loop, mnt.toString());
            mounted = true;
            Cmd.Result r = jtarget.exec("backstore:create m1 block device=" + loop);
            assertFalse(r.ok(), r::describe);
            assertTrue((r.out() + r.err()).contains("device: " + loop + " (in use: mounted at " + mnt), r::describe);
        } finally {
            if (mounted) {
                Mounts.umount(mnt);
            }
            Mounts.detachLoop(loop);
        }
    }

    private static byte[] filled(int value, int length) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] bytesAt(Path file, long offset, int length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }

    private static long allocatedBytes(Path file) {
        return Long.parseLong(Mounts.run("stat", "-c", "%b", file.toString()).strip()) * 512;
    }
}
