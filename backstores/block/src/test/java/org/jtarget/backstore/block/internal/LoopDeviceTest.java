package org.jtarget.backstore.block.internal;

import static org.jtarget.backstore.block.internal.BlockBackstoreTest.get;
import static org.jtarget.backstore.block.internal.BlockBackstoreTest.pattern;
import static org.jtarget.backstore.block.internal.BlockBackstoreTest.readBytes;
import static org.jtarget.backstore.block.internal.BlockBackstoreTest.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block backstore on a real block device: a loop device over a sparse file (needs root and losetup). */
class LoopDeviceTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;
    private final BlockBackstoreProvider provider = new BlockBackstoreProvider();
    private final List<BlockBackstore> opened = new ArrayList<>();
    private final List<String> cleanups = new ArrayList<>();
    private Path image;
    private Path device;

    @BeforeEach
    void attach() throws Exception {
        String why = LoopDevices.unavailable();
        if (why != null) {
            System.out.println("LoopDeviceTest skipped: " + why);
        }
        assumeTrue(why == null, why);
        image = dir.resolve("backing.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
        }
    }

    private Path loop(String... options) throws Exception {
        try {
            device = LoopDevices.attach(image, options);
        } catch (IOException e) {
            System.out.println("LoopDeviceTest skipped: " + e.getMessage());
            assumeTrue(false, "losetup failed: " + e.getMessage());
        }
        cleanups.add(0, "losetup -d " + device);
        return device;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (BlockBackstore b : opened) {
            get(b.close());
        }
        provider.deactivate();
        for (String command : cleanups) {
            LoopDevices.run(command.split(" "));
        }
    }

    private BlockBackstore open(String... extra) throws Exception {
        Map<String, String> p = new java.util.HashMap<>(Map.of("device", device.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        BlockBackstore b = (BlockBackstore) get(provider.open(new BackstoreContext("d1", p, dir)));
        opened.add(b);
        return b;
    }

    private String refusal() {
        ExecutionException e = assertThrows(ExecutionException.class, this::open);
        return assertInstanceOf(BackstoreException.class, e.getCause()).getMessage();
    }

    @Test
    void sizeBlockSizeAndCapabilitiesComeFromTheDevice() throws Exception {
        loop("-b", "4096");
        BlockBackstore b = open();
        assertTrue(b.device().blockDevice);
        assertTrue(b.device().direct, "O_DIRECT on a loop device");
        assertEquals(4096, b.blockSize());
        assertEquals(SIZE / 4096, b.blockCount());
        assertEquals("write back".equals(Files.readString(queue("write_cache")).strip()), b.writeCacheEnabled());
        assertEquals(Long.parseLong(Files.readString(queue("discard_max_bytes")).strip()) > 0,
                b.thinProvisioning().isPresent());
        assertEquals(Long.parseLong(Files.readString(queue("max_sectors_kb")).strip()) * 1024,
                b.limits().optimalTransferBytes());
    }

    private Path queue(String attribute) {
        return Path.of("/sys/block", device.getFileName().toString(), "queue", attribute);
    }

    @Test
    void directWritesReachTheBackingFileAndReadBack() throws Exception {
        loop();
        BlockBackstore b = open();
        assertEquals(512, b.blockSize());
        byte[] first = pattern(64 * 1024, 11);
        byte[] last = pattern(512, 12);
        write(b, 0, first, false);
        write(b, b.blockCount() - 1, last, true);
        get(b.flush());
        assertArrayEquals(first, readBytes(b, 0, 128));
        assertArrayEquals(last, readBytes(b, b.blockCount() - 1, 1));
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] got = new byte[first.length];
            f.readFully(got);
            assertArrayEquals(first, got);
            f.seek(SIZE - 512);
            byte[] tail = new byte[512];
            f.readFully(tail);
            assertArrayEquals(last, tail);
        }
    }

    @Test
    void directFalseGoesThroughThePageCacheWithTheWriteCacheOn() throws Exception {
        loop();
        BlockBackstore b = open("direct", "false");
        assertTrue(!b.device().direct && b.writeCacheEnabled(), b.device().facts);
        byte[] data = pattern(8192, 14);
        write(b, 3, data, true);
        assertArrayEquals(data, readBytes(b, 3, 16));
        var cached = b.read(3, 16, io.netty.buffer.PooledByteBufAllocator.DEFAULT).toCompletableFuture();
        try {
            assertTrue(cached.isDone(), "a read from the page cache completes on the caller's thread");
        } finally {
            get(cached).release();
        }
    }

    @Test
    void unmapReachesTheBackingFileAsAHole() throws Exception {
        loop();
        BlockBackstore b = open();
        byte[] data = pattern(8 << 20, 13);
        write(b, 0, data, true);
        long written = LoopDevices.allocatedBlocks(image);
        assertTrue(written >= (8 << 20) / 512, "8 MiB allocated in the backing file: " + written);
        assertEquals(BlockDevice.Unmap.ZEROES, b.device().unmap, "a loop device writes zeroes: " + b.device().facts);
        assertTrue(b.thinProvisioning().orElseThrow().readsZerosAfterUnmap());
        get(b.thinProvisioning().orElseThrow().unmap(0, (4 << 20) / 512));
        long after = LoopDevices.allocatedBlocks(image);
        assertTrue(after <= written - (4 << 20) / 512, "4 MiB freed in the backing file: " + written + " -> " + after);
        assertArrayEquals(new byte[4 << 20], readBytes(b, 0, (4 << 20) / 512));
        assertArrayEquals(Arrays.copyOfRange(data, 4 << 20, 8 << 20), readBytes(b, (4 << 20) / 512, (4 << 20) / 512));
        get(b.zeroWriting().orElseThrow().writeZeroes((4 << 20) / 512, 8, false, true));
        assertArrayEquals(new byte[4096], readBytes(b, (4 << 20) / 512, 8));
    }

    @Test
    void unmapDiscardIssuesBlkdiscardWhichFreesTheBackingFileAndReportsUndefinedContents() throws Exception {
        loop();
        BlockBackstore b = open("unmap", "discard");
        assertEquals(BlockDevice.Unmap.DISCARD, b.device().unmap, b.device().facts);
        assertTrue(b.device().facts.contains("BLKDISCARD"), b.device().facts);
        var thin = b.thinProvisioning().orElseThrow();
        assertTrue(!thin.readsZerosAfterUnmap(), "a plain discard promises no zeros: LBPRZ 0");
        byte[] data = pattern(8 << 20, 15);
        write(b, 0, data, true);
        long written = LoopDevices.allocatedBlocks(image);
        get(thin.unmap(0, (4 << 20) / 512));
        long after = LoopDevices.allocatedBlocks(image);
        assertTrue(after <= written - (4 << 20) / 512, "BLKDISCARD freed 4 MiB of the backing file: " + written
                + " -> " + after);
        assertArrayEquals(Arrays.copyOfRange(data, 4 << 20, 8 << 20), readBytes(b, (4 << 20) / 512, (4 << 20) / 512),
                "the blocks after the range keep their data");
        // zeroing that may deallocate must still read back zeros: BLKZEROOUT, never a bare discard
        get(b.zeroWriting().orElseThrow().writeZeroes((4 << 20) / 512, 16, true, true));
        assertArrayEquals(new byte[8192], readBytes(b, (4 << 20) / 512, 16));
        assertArrayEquals(Arrays.copyOfRange(data, (4 << 20) + 8192, 8 << 20),
                readBytes(b, (4 << 20) / 512 + 16, (4 << 20) / 512 - 16));
    }

    @Test
    void unmapOffIsHonouredOnADeviceThatCouldDiscard() throws Exception {
        loop();
        BlockBackstore b = open("unmap", "off");
        assertTrue(b.thinProvisioning().isEmpty(), b.device().facts);
        assertTrue(b.device().facts.contains("unmap no"), b.device().facts);
    }

    @Test
    void refusesADeviceThatIsMounted() throws Exception {
        loop();
        LoopDevices.run("mkfs.ext4", "-q", "-F", device.toString());
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        LoopDevices.run("mount", device.toString(), mnt.toString());
        cleanups.add(0, "umount " + mnt);
        String message = refusal();
        assertTrue(message.startsWith("device: " + device + " (in use: mounted at " + mnt), message);
    }

    @Test
    void refusesADeviceHeldExclusivelyByAnotherOpenerAndReleasesItsOwnClaimOnClose() throws Exception {
        loop();
        BlockBackstore first = open();
        String message = refusal();
        assertEquals("device: " + device + " (in use: served by backstore d1; expected: a device nobody else uses)",
                message);
        get(first.close());
        opened.remove(first);
        Process holder = holdExclusively(device);
        try {
            message = refusal();
            assertTrue(message.contains("in use: opened exclusively"), message);
        } finally {
            holder.destroyForcibly().waitFor();
        }
        open(); // free again
    }

    /** Another process opening the device with O_EXCL (python3), once it reports that it holds it. */
    private static Process holdExclusively(Path device) throws IOException {
        String python = "import os,sys\nfd=os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL)\nprint('held', flush=True)\n"
                + "sys.stdin.read()\n";
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", python, device.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            System.out.println("LoopDeviceTest: other-process part skipped: " + e.getMessage());
            assumeTrue(false, "python3 is missing: " + e.getMessage());
            throw e;
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine(); // blocks until the holder has the device or died
        assertEquals("held", line, "the holder process could not open " + device);
        return p;
    }
}
