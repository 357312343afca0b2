package org.example.jtarget.nullstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.Test;

/** The parameters: what a user typing backstore:create sees. */
class NullBackstoreProviderTest {
    private static Backstore open(Map<String, String> parameters) throws Exception {
        return new NullBackstoreProvider().open(new BackstoreContext("n", parameters, Path.of("unused")))
                .toCompletableFuture().get();
    }

    private static String refusal(Map<String, String> parameters) {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> open(parameters));
        BackstoreException b = assertInstanceOf(BackstoreException.class, e.getCause());
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, b.reason());
        return b.getMessage();
    }

    @Test
    void sizeAndBlockSizeGiveTheGeometry() throws Exception {
        Backstore b = open(Map.of("size", "1G", "block_size", "4096"));
        assertEquals(4096, b.blockSize());
        assertEquals(262144, b.blockCount());
        assertEquals(512, open(Map.of("size", "1M")).blockSize());
    }

    @Test
    void badParametersAreRefusedWithTheReason() {
        assertEquals("size: missing (expected: a number with optional K, M, G or T)", refusal(Map.of()));
        assertEquals("block_size: 1024 (expected: 512 or 4096)", refusal(Map.of("size", "1M", "block_size", "1024")));
        assertEquals("size: 1000 (expected: a multiple of the block size 512)", refusal(Map.of("size", "1000")));
        String unknown = refusal(Map.of("size", "1M", "file", "x"));
        org.junit.jupiter.api.Assertions.assertTrue(unknown.startsWith("unknown parameter: file (expected one of: "), unknown);
    }
}
