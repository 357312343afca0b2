package org.jtarget.backstore.s3.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VirtualHostChecks} against S3Proxy taking virtual-host requests for {@value #HOST}
 * ({@code s3proxy.virtual-host}); what it stored is read from its folder (bucket = folder, object = file).
 */
class S3VirtualHostTest extends VirtualHostChecks {
    static final String HOST = "s3.jtarget.test";
    @TempDir
    static Path dir;
    static S3ProxyServer server;

    @BeforeAll
    static void start() throws Exception {
        requireHostsFile();
        server = S3ProxyServer.start(dir, HOST);
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
        return new Server(HOST, server.port(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, (bucket, key) -> {
            Path file = server.basedir().resolve(bucket).resolve(key); // bucket = folder, object = file
            return Files.exists(file) ? Files.readAllBytes(file) : null;
        }, dir);
    }

    @Test
    void theHostsFileIsTheOnlyResolver() throws Exception {
        assertEquals("127.0.0.1", InetAddress.getByName("vhost." + HOST).getHostAddress());
        assertThrows(UnknownHostException.class, () -> InetAddress.getByName("other." + HOST));
    }
}
