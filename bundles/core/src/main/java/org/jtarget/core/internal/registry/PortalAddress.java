package org.jtarget.core.internal.registry;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jtarget.api.TargetException;

/**
 * A listening address as users write it: {@code host:port} with an IPv4 literal, or {@code [v6]:port}.
 * Host names are refused: a target binds to addresses, and a name that resolves differently after a
 * restart would silently move the portal.
 *
 * @param address the socket address
 * @param text    canonical text, used in the saved configuration
 */
record PortalAddress(InetSocketAddress address, String text) {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    PortalAddress {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(text, "text");
    }

    static PortalAddress parse(String portal) {
        if (portal == null || portal.isBlank()) {
            throw new TargetException("portal: empty (expected host:port or [ipv6]:port)");
        }
        String s = portal.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new TargetException("portal: " + portal + " (expected [ipv6]:port, e.g. [::1]:3260)");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (host.indexOf(':') < 0) {
                throw new TargetException("portal: " + portal + " (expected an IPv6 address inside the brackets)");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0 || s.indexOf(':') != colon) {
                throw new TargetException("portal: " + portal
                        + " (expected host:port, e.g. 127.0.0.1:3260; IPv6 as [::1]:3260)");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (!IPV4.matcher(host).matches()) {
                throw new TargetException("portal host: " + host + " (expected an IPv4 address such as 127.0.0.1,"
                        + " or [ipv6]; host names are not accepted)");
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new TargetException("portal port: " + port + " (expected a number 1..65535)");
        }
        if (p < 1 || p > 65535) {
            throw new TargetException("portal port: " + p + " (expected 1..65535)");
        }
        if (host.indexOf(':') < 0) {
            for (String octet : host.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    throw new TargetException("portal host: " + host + " (expected an IPv4 address, octets 0..255)");
                }
            }
        }
        InetAddress ip;
        try {
            // a literal (checked above for IPv4; contains ':' for IPv6), so no name lookup happens
            ip = InetAddress.getByName(host);
        } catch (UnknownHostException | SecurityException e) {
            throw new TargetException("portal host: " + host + " (expected an IP address)");
        }
        String canonical = ip instanceof java.net.Inet6Address
                ? "[" + ip.getHostAddress() + "]:" + p
                : ip.getHostAddress() + ":" + p;
        return new PortalAddress(new InetSocketAddress(ip, p), canonical);
    }

    /** Whether a connection accepted on {@code local} arrived through this portal (wildcards match any address). */
    boolean matches(InetSocketAddress local) {
        if (local == null || local.getPort() != address.getPort()) {
            return false;
        }
        InetAddress mine = address.getAddress();
        return mine.isAnyLocalAddress() || mine.equals(local.getAddress());
    }

    @Override
    public String toString() {
        return text;
    }
}
