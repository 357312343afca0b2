package org.jtarget.backstore.file.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A FileChannel over a real one that fails on demand the way the kernel does (an IOException whose message
 * is strerror(errno)), and counts the forces that reached it. Positional read/write/force only: what
 * {@link FileBackstore} uses.
 */
final class FaultyChannel extends FileChannel {
    private final FileChannel real;
    volatile Throwable readFailure;
    volatile Throwable writeFailure;
    volatile Throwable forceFailure;
    /** Bytes a write may still store before {@link #writeFailure} hits (a short write, then the error). */
    volatile long writeBudget;
    volatile int forces;

    FaultyChannel(FileChannel real) {
        this.real = real;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        fail(readFailure);
        return real.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (writeFailure != null) {
            if (writeBudget <= 0) {
                fail(writeFailure);
            }
            int n = (int) Math.min(writeBudget, src.remaining());
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + n);
            int written = real.write(part, position);
            src.position(src.position() + written);
            writeBudget -= written;
            return written;
        }
        return real.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
        forces++;
        fail(forceFailure);
        real.force(metaData);
    }

    private static void fail(Throwable failure) throws IOException {
        if (failure instanceof IOException e) {
            throw e;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    @Override
    public int read(ByteBuffer dst) {
        throw new UnsupportedOperationException("positional reads only");
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) {
        throw new UnsupportedOperationException("positional reads only");
    }

    @Override
    public int write(ByteBuffer src) {
        throw new UnsupportedOperationException("positional writes only");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException("positional writes only");
    }

    @Override
    public long position() throws IOException {
        return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        real.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        real.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return real.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return real.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        real.close();
    }
}
