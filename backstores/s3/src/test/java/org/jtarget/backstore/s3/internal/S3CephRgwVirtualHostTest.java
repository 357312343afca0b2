package org.jtarget.backstore.s3.internal;


import java.io.IOException;
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
    String host() {
        return HOST;
    }

    @Override
    int port() {
        return server.port();
    }

    @Override
    String accessKey() {
        return CephRgwServer.ACCESS_KEY;
    }

    @Override
    String secretKey() {
        return CephRgwServer.SECRET_KEY;
    }

    @Override
    byte[] stored(String bucket, String key) throws Exception {
        return server.stored(bucket, key);
    }

    @Override
    Path home(String name) throws IOException {
        return folder(dir, name);
    }
}
