package org.jtarget.nbd.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The TPG attribute {@code nbd.allowed_addresses}: client addresses an export admits, as a comma-separated
 * list of addresses and CIDR ranges ({@code 127.0.0.0/8,::1,192.0.2.0/24}) or {@code any}. Unset means
 * {@value #DEFAULT}: loopback only, since NBD has no authentication of its own. Only numeric addresses
 * are accepted (no name lookups); an entry that does not parse admits nobody and is reported by
 * {@link #problem}.
 */
final class AddressRanges {
    static final String KEY = "nbd.allowed_addresses";
    static final String DEFAULT = "127.0.0.0/8,::1";

    private record Range(byte[] prefix, int bits) {
        boolean contains(byte[] a) {
            if (a.length != prefix.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (a[full] & mask) == (prefix[full] & mask);
        }
    }

    private final List<Range> ranges;
    private final boolean any;
    private final String problem;

    private AddressRanges(List<Range> ranges, boolean any, String problem) {
        this.ranges = ranges;
        this.any = any;
        this.problem = problem;
    }

    static AddressRanges parse(String text) {
        String spec = text == null || text.isBlank() ? DEFAULT : text;
        List<Range> out = new ArrayList<>();
        boolean any = false;
        String problem = null;
        for (String raw : spec.split(",")) {
            String e = raw.trim();
            if (e.equalsIgnoreCase("any")) {
                any = true;
                continue;
            }
            try {
                out.add(range(e));
            } catch (IllegalArgumentException ex) {
                problem = KEY + ": " + e + " (expected an address, ADDRESS/BITS or any)";
            }
        }
        return new AddressRanges(List.copyOf(out), any, problem);
    }

    private static Range range(String e) {
        int slash = e.indexOf('/');
        String host = slash < 0 ? e : e.substring(0, slash);
        if (host.isEmpty() || !host.matches("[0-9A-Fa-f:.]+") || (host.indexOf(':') < 0 && !host.matches("[0-9.]+"))) {
            throw new IllegalArgumentException(e);
        }
        byte[] a;
        try {
            a = InetAddress.getByName(host).getAddress(); // numeric only (checked above): no lookup
        } catch (UnknownHostException ex) {
            throw new IllegalArgumentException(e, ex);
        }
        int bits = a.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(e.substring(slash + 1));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(e, ex);
            }
            if (bits < 0 || bits > a.length * 8) {
                throw new IllegalArgumentException(e);
            }
        }
        return new Range(a, bits);
    }

    boolean allows(InetAddress address) {
        if (any) {
            return true;
        }
        byte[] a = address.getAddress();
        for (Range r : ranges) {
            if (r.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** Why an entry was not understood, or null. */
    String problem() {
        return problem;
    }
}
