package org.jtarget.iscsi.internal.fuzz;

import java.util.Arrays;
import java.util.List;
import org.jtarget.iscsi.internal.codec.Crc32c;

/**
 * One change to the bytes of an encoded PDU (RFC 7143 §11.2 BHS offsets): a bit flip or byte overwrite
 * anywhere, a new opcode, flags, TotalAHSLength or DataSegmentLength, or a truncation. Positions and values
 * are raw ints reduced modulo the frame length when applied.
 */
record Mutation(Kind kind, int position, int value) {
    enum Kind {
        FLIP_BIT, SET_BYTE, SET_BHS_BYTE, OPCODE, FLAGS, TOTAL_AHS_LENGTH, DATA_SEGMENT_LENGTH, TRUNCATE
    }

    private static final int[] VALUES = {0, 1, 3, 4, 48, 255, 511, 512, 513, 8191, 8192, 8193, 262144, 262145,
        0xffffff};

    static Mutation any(Gen g) {
        int value = switch (g.index(3)) {
            case 0 -> g.anyInt();
            case 1 -> g.between(0, 1100);
            default -> VALUES[g.index(VALUES.length)];
        };
        return new Mutation(g.pick(Kind.class), g.nonNegative(), value);
    }

    static List<Mutation> list(Gen g, int max) {
        return g.list(0, max, () -> any(g));
    }

    /** Applies the mutations in order to one frame; with a header digest, optionally recomputes it. */
    static byte[] apply(byte[] frame, List<Mutation> mutations, boolean headerDigest, boolean fixDigest) {
        byte[] b = frame;
        for (Mutation m : mutations) {
            b = m.apply(b);
        }
        if (headerDigest && fixDigest && b.length >= 48) {
            int headerLength = 48 + (b[4] & 0xff) * 4;
            if (b.length >= headerLength + 4) {
                int crc = Crc32c.of(io.netty.buffer.Unpooled.wrappedBuffer(b), 0, headerLength);
                for (int i = 0; i < 4; i++) {
                    b[headerLength + i] = (byte) (crc >>> (8 * i)); // least significant byte first
                }
            }
        }
        return b;
    }

    byte[] apply(byte[] in) {
        if (in.length == 0) {
            return in;
        }
        byte[] b = in.clone();
        switch (kind) {
            case FLIP_BIT -> b[position % b.length] ^= (byte) (1 << (value & 7));
            case SET_BYTE -> b[position % b.length] = (byte) value;
            case SET_BHS_BYTE -> b[position % Math.min(48, b.length)] = (byte) value;
            case OPCODE -> b[0] = (byte) value;
            case FLAGS -> b[Math.min(1, b.length - 1)] = (byte) value;
            case TOTAL_AHS_LENGTH -> b[Math.min(4, b.length - 1)] = (byte) value;
            case DATA_SEGMENT_LENGTH -> {
                if (b.length >= 8) {
                    b[5] = (byte) (value >>> 16);
                    b[6] = (byte) (value >>> 8);
                    b[7] = (byte) value;
                }
            }
            case TRUNCATE -> b = Arrays.copyOf(b, position % (b.length + 1));
            default -> throw new AssertionError(kind);
        }
        return b;
    }
}
