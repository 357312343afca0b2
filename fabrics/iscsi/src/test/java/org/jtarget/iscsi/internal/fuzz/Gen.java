package org.jtarget.iscsi.internal.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The random source of one fuzz try ({@link Fuzz}): uniform choices plus a small bias towards the edge cases
 * of a range (its ends; for any int or long also 0, ±1 and byte/short/24-bit limits), where decoders tend to
 * break. The bias is small so that choices made by thresholds (e.g. "a valid name below 95 of 100") keep
 * their odds.
 */
final class Gen {
    private static final int[] EDGE_INTS = {0, 1, -1, 2, Integer.MIN_VALUE, Integer.MAX_VALUE,
        Integer.MIN_VALUE + 1, Integer.MAX_VALUE - 1, 0xff, 0x100, 0xffff, 0x10000, 0xffffff, 0x1000000};
    private static final long[] EDGE_LONGS = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0xffffffffL,
        0x100000000L, 0xffffffffffffL};
    /** Characters that matter to the text format (RFC 7143 §6.1) and its UTF-8 encoding. */
    private static final String SPECIAL_CHARS = "\0=,\t\n \u00e9\u20ac\ufffd\uffff";

    private final SplittableRandom random;

    Gen(long seed) {
        this.random = new SplittableRandom(seed);
    }

    boolean bool() {
        return random.nextBoolean();
    }

    /** True with probability numerator/denominator. */
    boolean chance(int numerator, int denominator) {
        return random.nextInt(denominator) < numerator;
    }

    /** Any int; one in 15 an edge case. */
    int anyInt() {
        return chance(1, 15) ? EDGE_INTS[random.nextInt(EDGE_INTS.length)] : random.nextInt();
    }

    /** Any long; one in 15 an edge case. */
    long anyLong() {
        return chance(1, 15) ? EDGE_LONGS[random.nextInt(EDGE_LONGS.length)] : random.nextLong();
    }

    /** An int in [min, max]; one in 30 an end of the range. */
    int between(int min, int max) {
        if (chance(1, 30)) {
            return bool() ? min : max;
        }
        return (int) random.nextLong(min, (long) max + 1);
    }

    /** A non-negative int. */
    int nonNegative() {
        return anyInt() & Integer.MAX_VALUE;
    }

    /** An index in [0, bound): uniform, no edge bias (for choosing among alternatives). */
    int index(int bound) {
        return random.nextInt(bound);
    }

    @SafeVarargs
    final <T> T pick(T... values) {
        return values[index(values.length)];
    }

    <T> T pick(List<T> values) {
        return values.get(index(values.size()));
    }

    <E extends Enum<E>> E pick(Class<E> type) {
        return pick(type.getEnumConstants());
    }

    /** One of the alternatives, each equally likely. */
    @SafeVarargs
    final <T> T oneOf(Supplier<? extends T>... alternatives) {
        return pick(alternatives).get();
    }

    /** The alternative after weight i with probability weights[i] / sum(weights). */
    int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int r = index(total);
        for (int i = 0; i < weights.length; i++) {
            r -= weights[i];
            if (r < 0) {
                return i;
            }
        }
        throw new AssertionError("weights: " + java.util.Arrays.toString(weights));
    }

    /** Random bytes, length in [minLength, maxLength]; one in ten all zero. */
    byte[] bytes(int minLength, int maxLength) {
        byte[] b = new byte[between(minLength, maxLength)];
        if (!chance(1, 10)) {
            random.nextBytes(b);
        }
        return b;
    }

    int[] ints(int length, Supplier<Integer> element) {
        int[] a = new int[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = element.get();
        }
        return a;
    }

    <T> List<T> list(int minSize, int maxSize, Supplier<T> element) {
        int size = between(minSize, maxSize);
        List<T> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(element.get());
        }
        return list;
    }

    /** A string of any characters (ASCII mostly, also controls, text format specials and any BMP character). */
    String string(int maxLength) {
        StringBuilder sb = new StringBuilder();
        for (int n = between(0, maxLength); n > 0; n--) {
            sb.append(switch (weighted(6, 2, 2)) {
                case 0 -> (char) (0x20 + index(0x5f));
                case 1 -> SPECIAL_CHARS.charAt(index(SPECIAL_CHARS.length()));
                default -> anyChar();
            });
        }
        return sb.toString();
    }

    /** A string of the given characters. */
    String string(int maxLength, char... chars) {
        StringBuilder sb = new StringBuilder();
        for (int n = between(0, maxLength); n > 0; n--) {
            sb.append(chars[index(chars.length)]);
        }
        return sb.toString();
    }

    /** Letters only, of exactly the given length. */
    String alpha(int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            char c = (char) ('a' + index(26));
            sb.append(bool() ? Character.toUpperCase(c) : c);
        }
        return sb.toString();
    }

    private char anyChar() {
        char c;
        do {
            c = (char) index(0x10000);
        } while (Character.isSurrogate(c));
        return c;
    }
}
