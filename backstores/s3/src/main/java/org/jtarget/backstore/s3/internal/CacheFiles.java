package org.jtarget.backstore.s3.internal;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local files of one S3 LUN's cache, in the instance's data folder (mode 0600):
 * <ul>
 * <li>{@code NAME.cache}: {@code slots} slots of one object each (sparse);</li>
 * <li>{@code NAME.index}: a 16-byte header ("JTS3IDX1", object size, slots), then 16 bytes per slot: the
 * object number and 1 when the slot holds data not yet uploaded. A slot is marked dirty after its data are
 * written and before the write is acknowledged, and clean after the upload; a {@code kill -9} loses neither
 * (both sit in the kernel's page cache), and the next open uploads the dirty slots.</li>
 * </ul>
 */
final class CacheFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheFiles.class);
    private static final byte[] MAGIC = "JTS3IDX1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 16;
    private static final int RECORD = 16;
    private static final ByteBuffer ZEROS = ByteBuffer.allocate(64 * 1024).asReadOnlyBuffer();

    private final Path dataPath;
    private final FileChannel data;
    private final FileChannel index;
    private final int objectSize;
    private final int slots;
    private final Map<Integer, Long> dirtyAtOpen;

    private CacheFiles(Path dataPath, FileChannel data, FileChannel index, int objectSize, int slots,
                       Map<Integer, Long> dirtyAtOpen) {
        this.dataPath = dataPath;
        this.data = data;
        this.index = index;
        this.objectSize = objectSize;
        this.slots = slots;
        this.dirtyAtOpen = dirtyAtOpen;
    }

    /**
     * Opens or creates the files {@code base.cache} and {@code base.index}. An existing index with more slots
     * keeps its slot count (its dirty slots must survive); one of another object size is refused.
     */
    static CacheFiles open(Path base, int objectSize, int slots) throws IOException {
        Path dir = base.getParent();
        Files.createDirectories(dir);
        Path dataPath = base.resolveSibling(base.getFileName() + ".cache");
        Path indexPath = base.resolveSibling(base.getFileName() + ".index");
        FileChannel index = open(indexPath);
        FileChannel data = null;
        try {
            Map<Integer, Long> dirty = new HashMap<>();
            if (index.size() >= HEADER) {
                ByteBuffer h = ByteBuffer.allocate(HEADER);
                index.read(h, 0);
                h.flip();
                byte[] magic = new byte[8];
                h.get(magic);
                int oldObjectSize = h.getInt();
                int oldSlots = h.getInt();
                if (!java.util.Arrays.equals(magic, MAGIC)) {
                    throw new IOException(indexPath + ": not a jtarget S3 cache index");
                }
                ByteBuffer records = ByteBuffer.allocate(Math.toIntExact(Math.min(index.size() - HEADER,
                        (long) oldSlots * RECORD)));
                index.read(records, HEADER);
                records.flip();
                for (int s = 0; records.remaining() >= RECORD; s++) {
                    long object = records.getLong();
                    long state = records.getLong();
                    if (state == 1) {
                        dirty.put(s, object);
                    }
                }
                if (!dirty.isEmpty() && oldObjectSize != objectSize) {
                    throw new IOException(indexPath + ": holds " + dirty.size() + " objects of " + oldObjectSize
                            + " bytes not yet uploaded; expected object size " + objectSize);
                }
                slots = Math.max(slots, oldSlots);
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER).put(MAGIC).putInt(objectSize).putInt(slots);
            h.flip();
            index.write(h, 0);
            long indexLength = HEADER + (long) slots * RECORD;
            if (index.size() < indexLength) {
                index.write(ByteBuffer.allocate(1), indexLength - 1);
            }
            data = open(dataPath);
            long length = (long) slots * objectSize;
            if (data.size() < length) {
                data.write(ByteBuffer.allocate(1), length - 1); // sparse
            }
            return new CacheFiles(dataPath, data, index, objectSize, slots, dirty);
        } catch (IOException | RuntimeException e) {
            index.close();
            if (data != null) {
                data.close();
            }
            throw e;
        }
    }

    private static FileChannel open(Path p) throws IOException {
        if (!Files.exists(p)) {
            try {
                Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(p);
            }
        }
        return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Deletes the cache files of {@code base} (after a destroy). */
    static void delete(Path base) throws IOException {
        Files.deleteIfExists(base.resolveSibling(base.getFileName() + ".cache"));
        Files.deleteIfExists(base.resolveSibling(base.getFileName() + ".index"));
    }

    int objectSize() {
        return objectSize;
    }

    int slots() {
        return slots;
    }

    /** Slot to object, for the slots marked dirty when the files were opened. */
    Map<Integer, Long> dirtySlots() {
        return dirtyAtOpen;
    }

    void read(int slot, int offset, int length, ByteBuf dst) throws IOException {
        long pos = position(slot, offset);
        int index = dst.writerIndex();
        dst.ensureWritable(length);
        int done = 0;
        while (done < length) {
            int n = dst.setBytes(index + done, data, pos + done, length - done);
            if (n < 0) { // beyond the end of a short file: zeros
                dst.setZero(index + done, length - done);
                break;
            }
            done += n;
        }
        dst.writerIndex(index + length);
    }

    /** Writes {@code length} bytes of {@code src} from its reader index (not moved), or zeros when null. */
    void write(int slot, int offset, int length, ByteBuf src) throws IOException {
        long pos = position(slot, offset);
        if (src == null) {
            writeFully(ByteBuffer.allocate(length), pos);
            return;
        }
        int done = 0;
        while (done < length) {
            done += src.getBytes(src.readerIndex() + done, data, pos + done, length - done);
        }
    }

    /** Fills the slot with a downloaded object (zeros beyond its end, all zeros when null). */
    void fill(int slot, byte[] object) throws IOException {
        int n = object == null ? 0 : Math.min(object.length, objectSize);
        if (n > 0) {
            writeFully(ByteBuffer.wrap(object, 0, n), position(slot, 0));
        }
        if (n < objectSize) {
            writeFully(ByteBuffer.allocate(objectSize - n), position(slot, n));
        }
    }

    /** Reads the slot into {@code dst} from its position to its limit (zeros beyond the end of the file), then flips it. */
    void readSlot(int slot, ByteBuffer dst) throws IOException {
        dst.clear().limit(objectSize);
        long pos = position(slot, 0);
        while (dst.hasRemaining()) {
            if (data.read(dst, pos + dst.position()) < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0); // a short file: the rest is zeros
                }
            }
        }
        dst.flip();
    }

    void markDirty(int slot, long object) throws IOException {
        writeRecord(slot, object, 1);
    }

    /** Marks the slot clean; a failure only means the object is uploaded again at the next open. */
    void markClean(int slot) {
        try {
            writeRecord(slot, -1, 0);
        } catch (IOException e) {
            LOG.warn("{}: cannot mark slot {} clean: {}", dataPath, slot, e.toString());
        }
    }

    private void writeRecord(int slot, long object, long state) throws IOException {
        ByteBuffer r = ByteBuffer.allocate(RECORD).putLong(object).putLong(state);
        r.flip();
        int n = 0;
        while (r.hasRemaining()) {
            n += index.write(r, HEADER + (long) slot * RECORD + n);
        }
    }

    private void writeFully(ByteBuffer b, long pos) throws IOException {
        int start = b.position();
        while (b.hasRemaining()) {
            data.write(b, pos + b.position() - start);
        }
    }

    private long position(int slot, int offset) {
        return (long) slot * objectSize + offset;
    }

    /** Whether the readable bytes of {@code b} are all zeros (compared 64 KiB at a time, vectorized by the JDK). */
    static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i += ZEROS.capacity()) {
            int n = Math.min(ZEROS.capacity(), b.limit() - i);
            if (b.slice(i, n).mismatch(ZEROS.slice(0, n)) >= 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        try {
            data.close();
        } finally {
            index.close();
        }
    }
}
