package org.jtarget.backstore.nbd.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreParameters;

/**
 * An NBD URI (NetworkBlockDevice doc/uri.md): {@code nbd://HOST[:PORT][/EXPORT]} over TCP (port 10809 by
 * default) or {@code nbd+unix:///EXPORT?socket=PATH} over a Unix domain socket. The export name is the path
 * without its leading {@code /}, percent-decoded. TLS ({@code nbds}, {@code nbds+unix}) is not offered.
 *
 * @param text   the URI as the user wrote it (for messages)
 * @param host   the TCP host, null for a Unix socket
 * @param port   the TCP port
 * @param socket the Unix socket path, null for TCP
 * @param export the export name, empty for the server's default export
 */
record NbdUri(String text, String host, int port, String socket, String export) {
    static final int DEFAULT_PORT = 10809;
    static final String KEY = "uri";

    boolean unix() {
        return socket != null;
    }

    @Override
    public String toString() {
        return text;
    }

    static NbdUri parse(String text) throws BackstoreException {
        String expected = " (expected: nbd://HOST[:PORT][/EXPORT] or nbd+unix:///EXPORT?socket=PATH)";
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw BackstoreParameters.invalid(KEY + ": " + text + " (" + e.getMessage() + ";" + expected.substring(2));
        }
        String scheme = uri.getScheme();
        if (scheme == null || uri.isOpaque()) {
            throw BackstoreParameters.invalid(KEY + ": " + text + expected);
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String export = path.startsWith("/") ? path.substring(1) : path;
        switch (scheme.toLowerCase(java.util.Locale.ROOT)) {
            case "nbd" -> {
                String host = uri.getHost();
                if (host == null || host.isEmpty()) {
                    throw BackstoreParameters.invalid(KEY + ": " + text + " (no host; expected: nbd://HOST[:PORT][/EXPORT])");
                }
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
                if (port == 0 || port > 65535) {
                    throw BackstoreParameters.invalid(KEY + ": " + text + " (port " + port + "; expected: 1 to 65535)");
                }
                return new NbdUri(text.trim(), host, port, null, export);
            }
            case "nbd+unix" -> {
                if (uri.getRawAuthority() != null) {
                    throw BackstoreParameters.invalid(KEY + ": " + text
                            + " (a Unix socket URI has no host; expected: nbd+unix:///EXPORT?socket=PATH)");
                }
                String socket = queryParameter(uri.getRawQuery(), "socket");
                if (socket == null || socket.isEmpty()) {
                    throw BackstoreParameters.invalid(KEY + ": " + text
                            + " (no socket parameter; expected: nbd+unix:///EXPORT?socket=PATH)");
                }
                return new NbdUri(text.trim(), null, 0, socket, export);
            }
            case "nbds", "nbds+unix" -> throw BackstoreParameters.invalid(KEY + ": " + text
                    + " (TLS is not supported; expected: nbd:// or nbd+unix://)");
            default -> throw BackstoreParameters.invalid(KEY + ": " + text + expected);
        }
    }

    private static String queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
