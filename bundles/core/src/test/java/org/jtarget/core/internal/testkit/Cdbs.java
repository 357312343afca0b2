package org.jtarget.core.internal.testkit;

/** CDB builders for tests (SBC-3/SPC-4 layouts). */
public final class Cdbs {
    private Cdbs() {
    }

    public static byte[] of(int... b) {
        byte[] c = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            c[i] = (byte) b[i];
        }
        return c;
    }

    public static byte[] rw6(int opcode, int lba, int blocks) {
        return of(opcode, (lba >>> 16) & 0x1F, lba >>> 8, lba, blocks, 0);
    }

    public static byte[] rw10(int opcode, long lba, int blocks) {
        return rw10(opcode, 0, lba, blocks);
    }

    public static byte[] rw10(int opcode, int flags, long lba, int blocks) {
        return of(opcode, flags, (int) (lba >>> 24), (int) (lba >>> 16), (int) (lba >>> 8), (int) lba, 0,
                blocks >>> 8, blocks, 0);
    }

    public static byte[] rw12(int opcode, long lba, long blocks) {
        return of(opcode, 0, (int) (lba >>> 24), (int) (lba >>> 16), (int) (lba >>> 8), (int) lba,
                (int) (blocks >>> 24), (int) (blocks >>> 16), (int) (blocks >>> 8), (int) blocks, 0, 0);
    }

    public static byte[] rw16(int opcode, int flags, long lba, long blocks) {
        byte[] c = new byte[16];
        c[0] = (byte) opcode;
        c[1] = (byte) flags;
        for (int i = 0; i < 8; i++) {
            c[2 + i] = (byte) (lba >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            c[10 + i] = (byte) (blocks >>> (24 - 8 * i));
        }
        return c;
    }

    public static byte[] inquiry(boolean evpd, int page, int alloc) {
        return of(0x12, evpd ? 1 : 0, page, alloc >>> 8, alloc, 0);
    }

    public static byte[] reportLuns(int select, int alloc) {
        return of(0xA0, 0, select, 0, 0, 0, alloc >>> 24, alloc >>> 16, alloc >>> 8, alloc, 0, 0);
    }

    public static byte[] rsoc(int options, int opcode, int sa, int alloc, boolean rctd) {
        return of(0xA3, 0x0C, (rctd ? 0x80 : 0) | options, opcode, sa >>> 8, sa, alloc >>> 24, alloc >>> 16,
                alloc >>> 8, alloc, 0, 0);
    }
}
