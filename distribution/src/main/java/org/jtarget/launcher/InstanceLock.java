package org.jtarget.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One running instance per home. The Felix cache has no lock of its own: two frameworks on one
 * {@code cache/} wipe each other's bundles, and two config writers would race on conf/jtarget.json.
 *
 * <p>The lock is an OS file lock on {@code <home>/run/jtarget.pid}, held for the life of the JVM:
 * the kernel drops it when the process dies, even on SIGKILL, so a stale file never blocks a restart.
 * The file's content is the holder's PID, for messages and for scripts.
 */
final class InstanceLock implements AutoCloseable {

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private InstanceLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Thrown when another live process holds the lock. */
    static final class HeldException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String holderPid;

        HeldException(Path file, String holderPid) {
            super("another jtarget instance is already running in this home"
                    + (holderPid.isEmpty() ? "" : " (pid " + holderPid + ")") + "; lock file: " + file);
            this.holderPid = holderPid;
        }

        /** The PID written by the holder, or "" if unknown. */
        String holderPid() {
            return holderPid;
        }
    }

    /**
     * Takes the lock and writes this process's PID into the file.
     *
     * @throws HeldException if another process (or this one) already holds it
     */
    static InstanceLock acquire(Path file) throws IOException, HeldException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        // No TRUNCATE_EXISTING: the holder's PID must stay readable until we own the lock.
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM already
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = readPid(channel);
            channel.close();
            throw new HeldException(file, holder);
        }
        try {
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            channel.force(false);
        } catch (IOException e) {
            lock.release();
            channel.close();
            throw e;
        }
        return new InstanceLock(file, channel, lock);
    }

    private static String readPid(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        channel.read(buf, 0);
        return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
    }

    Path file() {
        return file;
    }

    /** Releases the lock and removes the PID from the file (the file itself stays: no unlink race). */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                channel.truncate(0);
                lock.release();
            }
        } finally {
            channel.close();
        }
    }
}
