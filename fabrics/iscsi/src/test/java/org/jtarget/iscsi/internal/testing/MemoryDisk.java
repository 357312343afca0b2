package org.jtarget.iscsi.internal.testing;

/** A small in-memory disk with 512-byte blocks. */
public final class MemoryDisk {
    public static final int BLOCK_SIZE = 512;
    public final byte[] bytes;

    public MemoryDisk(int blocks) {
        bytes = new byte[blocks * BLOCK_SIZE];
    }

    public long blocks() {
        return bytes.length / BLOCK_SIZE;
    }
}
