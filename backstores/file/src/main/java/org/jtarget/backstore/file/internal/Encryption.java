package org.jtarget.backstore.file.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AES-256 in CTR mode (NIST SP 800-38A 6.5) over the byte offsets of the image file: the counter block for
 * the 16 bytes at offset {@code o} is {@code nonce + o / 16} (128-bit big-endian addition), so any block is
 * encrypted and decrypted on its own, without reading its neighbours. Key and nonce are random per key
 * (SecureRandom); a key is only ever used with one nonce.
 *
 * <p>Unwritten space: a hole of a sparse file, a range deallocated by UNMAP (punched, or zeroed by the kernel
 * at the edges) and the part past the end of a short file read as zeros from the file. A logical block whose
 * stored bytes are all zero is therefore returned as zeros, not decrypted; every other block is decrypted. A
 * written block is stored all-zero only if its ciphertext happens to be all zero, a chance of 2^-4096 for a
 * 512-byte block: so unwritten blocks read as zeros (LBPRZ, SBC-3 4.7.4.5) before and after a key change,
 * UNMAP stays offered, and no SEEK_HOLE call is needed on the read path.
 *
 * <p>Limits: CTR with a counter tied to the offset is deterministic, like XTS: an observer of two copies of
 * the image taken at different times learns the XOR of the two versions of a block rewritten between them,
 * and nothing protects integrity. What it is for: the data at rest is unreadable without the key file, and
 * destroying the key (SANITIZE CRYPTOGRAPHIC ERASE) makes every written block unrecoverable at once.
 *
 * <p>Key file ({@code <data dir>/keys/<name>.key}, mode 0600): the magic {@code JTK1}, 32 key bytes, 16 nonce
 * bytes. Written to a temporary file in the same folder, forced, renamed over the old one, folder forced.
 */
final class Encryption {
    static final String NONE = "none";
    static final String AES_256_CTR = "aes-256-ctr";
    private static final Logger LOG = LoggerFactory.getLogger(Encryption.class);
    private static final byte[] MAGIC = {'J', 'T', 'K', '1'};
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 16;
    private static final int FILE_BYTES = MAGIC.length + KEY_BYTES + NONCE_BYTES;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ByteBuffer ZERO_BLOCK = ByteBuffer.allocateDirect(4096).asReadOnlyBuffer();

    /** One key and its nonce; replaced as a whole, so an I/O uses one consistent pair. */
    private record Key(SecretKeySpec key, byte[] nonce) {
    }

    private final Path keyFile;
    private final int blockSize;
    private volatile Key key;

    private Encryption(Path keyFile, int blockSize, Key key) {
        this.keyFile = keyFile;
        this.blockSize = blockSize;
        this.key = key;
    }

    /** Where the key of backstore {@code name} lives. */
    static Path keyFile(Path dataDirectory, String name) {
        return dataDirectory.toAbsolutePath().normalize().resolve("keys").resolve(name + ".key");
    }

    /** A new random key, written to {@code keyFile} (replacing a stale one). */
    static Encryption create(Path keyFile, int blockSize) throws IOException {
        byte[] material = newMaterial();
        try {
            writeAtomically(keyFile, material);
            return new Encryption(keyFile, blockSize, toKey(material));
        } finally {
            Arrays.fill(material, (byte) 0);
        }
    }

    /** The key stored in {@code keyFile}. */
    static Encryption load(Path keyFile, int blockSize) throws IOException {
        byte[] material = Files.readAllBytes(keyFile);
        try {
            if (material.length != FILE_BYTES || !Arrays.equals(MAGIC, Arrays.copyOf(material, MAGIC.length))) {
                throw new IOException("key file " + keyFile + ": " + material.length
                        + " bytes (expected: " + FILE_BYTES + " bytes starting with JTK1)");
            }
            return new Encryption(keyFile, blockSize, toKey(material));
        } finally {
            Arrays.fill(material, (byte) 0);
        }
    }

    Path keyFile() {
        return keyFile;
    }

    /**
     * Replaces the key: the new key goes to a forced temporary file; the old key file is overwritten in
     * place with the new key and forced (so the old key's bytes do not stay in its data blocks, and a crash
     * at any point leaves a readable key file, old or new); then the temporary file is renamed over it.
     * Data written so far now decrypts to garbage; unwritten blocks still read zeros.
     */
    synchronized void eraseKey() throws IOException {
        byte[] material = newMaterial();
        try {
            Path tmp = writeTemporary(keyFile, material);
            if (Files.exists(keyFile)) {
                try (FileChannel old = FileChannel.open(keyFile, StandardOpenOption.WRITE)) {
                    ByteBuffer b = ByteBuffer.wrap(material);
                    while (b.hasRemaining()) {
                        old.write(b, b.position());
                    }
                    old.force(true);
                }
            }
            rename(tmp, keyFile);
            key = toKey(material);
        } finally {
            Arrays.fill(material, (byte) 0);
        }
    }

    /**
     * Encrypts {@code in} (its remaining bytes) into {@code out} at its position, for the file offset
     * {@code position}; positions of both advance. {@code in} is only read.
     */
    void encrypt(ByteBuffer in, ByteBuffer out, long position) {
        Cipher c = cipher(key, position);
        try {
            c.update(in, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR encrypt", e);
        }
    }

    /**
     * Decrypts {@code buf} from its position to its limit in place (a whole number of blocks read from the
     * file offset {@code position}, block aligned); all-zero blocks stay zero. The position is unchanged.
     */
    void decrypt(ByteBuffer buf, long position) {
        Key k = key;
        int start = buf.position();
        int end = buf.limit();
        int run = -1; // start of a run of blocks to decrypt
        for (int off = start; off <= end; off += blockSize) {
            boolean zero = off < end && isZero(buf, off);
            if (off < end && !zero) {
                if (run < 0) {
                    run = off;
                }
                continue;
            }
            if (run >= 0) {
                ByteBuffer in = buf.duplicate().limit(off).position(run);
                ByteBuffer out = buf.duplicate().limit(off).position(run);
                try {
                    cipher(k, position + (run - start)).update(in, out); // copy-safe on shared memory
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("AES/CTR decrypt", e);
                }
                run = -1;
            }
        }
    }

    private boolean isZero(ByteBuffer buf, int off) {
        for (int done = 0; done < blockSize; done += ZERO_BLOCK.capacity()) {
            int n = Math.min(ZERO_BLOCK.capacity(), blockSize - done);
            ByteBuffer part = buf.duplicate().limit(off + done + n).position(off + done);
            if (part.mismatch(ZERO_BLOCK.duplicate().limit(n)) != -1) {
                return false;
            }
        }
        return true;
    }

    /** A cipher positioned at {@code position} (a multiple of 16: writes and reads are block aligned). */
    private static Cipher cipher(Key k, long position) {
        if ((position & 15) != 0) {
            throw new IllegalArgumentException("position: " + position + " (expected: a multiple of 16)");
        }
        byte[] counter = k.nonce().clone();
        long add = position >>> 4;
        for (int i = counter.length - 1; i >= 0 && add != 0; i--) { // counter = nonce + position / 16
            long sum = (counter[i] & 0xFFL) + (add & 0xFF);
            counter[i] = (byte) sum;
            add = (add >>> 8) + (sum >>> 8);
        }
        try {
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, k.key(), new IvParameterSpec(counter));
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR/NoPadding unavailable", e);
        }
    }

    private static byte[] newMaterial() {
        byte[] material = new byte[FILE_BYTES];
        System.arraycopy(MAGIC, 0, material, 0, MAGIC.length);
        byte[] random = new byte[KEY_BYTES + NONCE_BYTES];
        RANDOM.nextBytes(random);
        System.arraycopy(random, 0, material, MAGIC.length, random.length);
        Arrays.fill(random, (byte) 0);
        return material;
    }

    private static Key toKey(byte[] material) {
        return new Key(new SecretKeySpec(material, MAGIC.length, KEY_BYTES, "AES"),
                Arrays.copyOfRange(material, MAGIC.length + KEY_BYTES, FILE_BYTES));
    }

    private static void writeAtomically(Path keyFile, byte[] material) throws IOException {
        rename(writeTemporary(keyFile, material), keyFile);
    }

    /** A forced temporary file with mode 0600 next to {@code keyFile}. */
    private static Path writeTemporary(Path keyFile, byte[] material) throws IOException {
        Path dir = keyFile.getParent();
        Files.createDirectories(dir,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = Files.createTempFile(dir, keyFile.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(material);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    private static void rename(Path tmp, Path keyFile) throws IOException {
        try {
            Files.move(tmp, keyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try (FileChannel dir = FileChannel.open(keyFile.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself (fsync(2) notes)
        } catch (IOException e) {
            LOG.debug("fsync of folder {} not supported: {}", keyFile.getParent(), e.toString());
        }
    }
}
