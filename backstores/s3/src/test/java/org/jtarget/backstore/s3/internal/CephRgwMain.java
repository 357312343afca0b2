package org.jtarget.backstore.s3.internal;

import java.nio.file.Path;

/**
 * Runs {@link CephRgwServer} for {@code bench/s3.sh SERVER=rgw}: starts the throw-away cluster and gateway under
 * DIR, creates BUCKET, prints {@code endpoint URL} and {@code pids PID...} (monitor, OSD, gateway, whose CPU the
 * bench counts as the server's) on standard output, then serves until standard input ends, and stops the daemons.
 * Not a test: run with {@code java -cp target/test-classes:target/classes}.
 * <pre>CephRgwMain DIR BUCKET</pre>
 * The S3 user is {@link CephRgwServer#ACCESS_KEY}, a throw-away test key.
 */
public final class CephRgwMain {
    private CephRgwMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: CephRgwMain DIR BUCKET");
            System.exit(2);
        }
        try (CephRgwServer server = CephRgwServer.start(Path.of(args[0]))) {
            server.bucket(args[1]);
            System.out.println("endpoint " + server.endpoint());
            System.out.println("pids " + server.pids());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the bench closes our standard input
            }
        }
    }
}
