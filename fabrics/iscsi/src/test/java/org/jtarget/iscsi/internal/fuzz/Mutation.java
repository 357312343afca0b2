package org.jtarget.iscsi.internal.fuzz;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.jtarget.iscsi.internal.codec.Crc32c;

/**
 * One change to the bytes of an encoded PDU (RFC 7143 §11.2 BHS offsets): a bit flip or byte overwrite
 * anywhere, a new opcode, flags, TotalAHSLength or DataSegmentLength, or a truncation. Positions and values
 * are raw ints reduced modulo the frame length when applied, so jqwik can shrink them freely.
 */
record Mutation(Kind kind, int position, int value) {
    enum Kind {
        FLIP_BIT, SET_BYTE, SET_BHS_BYTE, OPCODE, FLAGS, TOTAL_AHS_LENGTH, DATA_SEGMENT_LENGTH, TRUNCATE
    }

    static Arbitrary<Mutation> any() {
        Arbitrary<Integer> values = Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(0, 1100),
                Arbitraries.of(0, 1, 3, 4, 48, 255, 511, 512, 513, 8191, 8192, 8193, 262144, 262145, 0xffffff));
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().greaterOrEqual(0), values)
                .as(Mutation::new);
    }

    static Arbitrary<List<Mutation>> lists(int max) {
        return any().list().ofMaxSize(max);
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
