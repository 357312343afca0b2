package org.jtarget.backstore.block.internal;

import java.util.Map;

/**
 * The backstore SPI contract against the block backstore with {@code direct=false} on a loop device: reads
 * from the page cache and writes without FUA run on the caller's thread, the rest on the I/O threads.
 */
class LoopDeviceBufferedContractTest extends LoopDeviceContractTest {
    @Override
    protected Map<String, String> parameters() {
        return Map.of("direct", "false");
    }
}
