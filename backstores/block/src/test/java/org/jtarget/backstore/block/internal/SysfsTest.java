package org.jtarget.backstore.block.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtarget.spi.backstore.BackstoreLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who uses a device and what its queue says, on a prepared sysfs/proc tree. */
class SysfsTest {
    @TempDir
    Path root;

    private Sysfs sysfs() throws Exception {
        Path devices = root.resolve("devices/virtual/block/sdz");
        Files.createDirectories(devices.resolve("queue"));
        Files.createDirectories(devices.resolve("holders"));
        Files.writeString(devices.resolve("dev"), "8:240\n");
        Path partition = Files.createDirectories(devices.resolve("sdz1"));
        Files.writeString(partition.resolve("partition"), "1\n");
        Files.writeString(partition.resolve("dev"), "8:241\n");
        Files.createDirectories(partition.resolve("holders"));
        Path links = Files.createDirectories(root.resolve("sys/dev/block"));
        Files.createSymbolicLink(links.resolve("8:240"), devices);
        Files.createSymbolicLink(links.resolve("8:241"), partition);
        Files.writeString(root.resolve("mountinfo"), ""
                + "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                + "40 22 8:241 / /mnt/with\\040space rw,relatime shared:9 - xfs /dev/sdz1 rw\n");
        Files.writeString(root.resolve("swaps"), "Filename\tType\tSize\tUsed\tPriority\n");
        return new Sysfs(links, root.resolve("mountinfo"), root.resolve("swaps"));
    }

    @Test
    void aMountedPartitionAndAHolderMakeTheDiskUsed() throws Exception {
        Sysfs sysfs = sysfs();
        assertEquals(List.of("mounted at /mnt/with space"), sysfs.users("8:240", Path.of("/dev/sdz")));
        Files.createFile(root.resolve("devices/virtual/block/sdz/holders/dm-3"));
        assertEquals(List.of("held by dm-3 (sdz)", "mounted at /mnt/with space"),
                sysfs.users("8:240", Path.of("/dev/sdz")));
        Files.writeString(root.resolve("mountinfo"), "22 1 254:1 / / rw - ext4 /dev/vda rw\n");
        Files.delete(root.resolve("devices/virtual/block/sdz/holders/dm-3"));
        assertEquals(List.of(), sysfs.users("8:240", Path.of("/dev/sdz")));
    }

    @Test
    void aPartitionUsesItsDisksQueue() throws Exception {
        Sysfs sysfs = sysfs();
        Path queue = root.resolve("devices/virtual/block/sdz/queue");
        Files.writeString(queue.resolve("optimal_io_size"), "0\n");
        Files.writeString(queue.resolve("max_sectors_kb"), "1280\n");
        Files.writeString(queue.resolve("minimum_io_size"), "4096\n");
        Files.writeString(queue.resolve("discard_max_bytes"), "2147450880\n");
        Files.writeString(queue.resolve("discard_granularity"), "1048576\n");
        // a device with atomic writes (NVMe AWUPF): not offered, a plain pwrite is not submitted as atomic
        Files.writeString(queue.resolve("atomic_write_max_bytes"), "65536\n");
        assertEquals(queue.toRealPath(), Sysfs.queueDir(sysfs.deviceDir("8:241")).toRealPath());
        BackstoreLimits limits = BlockDevice.limits(Sysfs.queueDir(sysfs.deviceDir("8:241")), 512, 4096, true);
        assertEquals(new BackstoreLimits(64L << 20, 1280 * 1024, 4096, 2147450880L, 1 << 20, 0), limits);
        assertEquals(0, BlockDevice.limits(queue, 512, 512, false).maxUnmapBytes(), "no unmap offered");
    }

    @Test
    void decodesDeviceNumbersLikeGlibc() {
        assertEquals("7:0", Sysfs.majorMinor(0x700));
        assertEquals("259:65537", Sysfs.majorMinor((259L << 8) | 1 | (0x10000L << 12)));
    }
}
