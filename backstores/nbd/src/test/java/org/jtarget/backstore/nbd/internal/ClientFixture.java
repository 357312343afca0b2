package org.jtarget.backstore.nbd.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A provider on its own event loops, and what a test started, closed in reverse order after it. */
abstract class ClientFixture {
    @TempDir
    Path dir;
    final Transport transport;
    final NbdBackstoreProvider provider;
    final List<AutoCloseable> cleanup = new ArrayList<>();

    ClientFixture(int threads, long connectTimeoutMillis, long replyTimeoutMillis, long retryMillis) {
        transport = new Transport(threads, connectTimeoutMillis, replyTimeoutMillis);
        provider = new NbdBackstoreProvider(transport, retryMillis);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        transport.close();
    }
}
