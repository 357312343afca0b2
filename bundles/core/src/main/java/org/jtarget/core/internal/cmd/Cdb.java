package org.jtarget.core.internal.cmd;

import java.util.Arrays;
import java.util.Objects;
import org.jtarget.spi.fabric.NetworkText;

/** A command descriptor block, read-only, with big-endian field accessors (SPC-4 4.2.5). */
public final class Cdb {
    private final byte[] bytes;

    public Cdb(byte[] bytes) {
        this.bytes = Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0) {
            throw new IllegalArgumentException("cdb length: 0 (expected: >= 6)");
        }
    }

    public int opcode() {
        return bytes[0] & 0xFF;
    }

    /** SERVICE ACTION of the variable-opcode CDBs (byte 1 bits 4-0, SPC-4 4.2.5.1). */
    public int serviceAction() {
        return u8(1) & 0x1F;
    }

    /** Bytes available (the fabric may pass 16 bytes for a 6-byte CDB). */
    public int length() {
        return bytes.length;
    }

    public int u8(int off) {
        return off < bytes.length ? bytes[off] & 0xFF : 0;
    }

    public boolean bit(int off, int bit) {
        return (u8(off) & (1 << bit)) != 0;
    }

    public int u16(int off) {
        return (u8(off) << 8) | u8(off + 1);
    }

    public int u24(int off) {
        return (u8(off) << 16) | u16(off + 1);
    }

    public long u32(int off) {
        return ((long) u16(off) << 16) | u16(off + 2);
    }

    public long u64(int off) {
        return (u32(off) << 32) | u32(off + 4);
    }

    public byte[] copy() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cdb c && Arrays.equals(bytes, c.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Cdb(" + NetworkText.hex(bytes) + ")"; // from the network: cut for log lines
    }
}
