package org.jtarget.backstore.s3.internal;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VirtualHostChecks} against a real Ceph RADOS Gateway ({@link CephRgwServer} with {@code rgw dns name =}
 * {@value #HOST}): the gateway takes the bucket from the Host header, and what it stored is read from RADOS with
 * the {@code rados} tool.
 */
class S3CephRgwVirtualHostTest extends VirtualHostChecks {
    static final String HOST = "rgw.jtarget.test";
    @TempDir
    static Path dir;
    static CephRgwServer server;

    @BeforeAll
    static void start() throws Exception {
        requireHostsFile();
        server = CephRgwServer.start(dir.resolve("ceph"), HOST);
        buckets(server::bucket);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    Server server() {
        return new Server(HOST, server.port(), CephRgwServer.ACCESS_KEY, CephRgwServer.SECRET_KEY, server::stored, dir);
    }
}
