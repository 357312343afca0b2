package org.jtarget.api;

import java.util.Map;
import java.util.Objects;

/**
 * A backstore object.
 *
 * @param name       unique name
 * @param type       provider type, e.g. {@code file}
 * @param parameters the user's parameters (what is saved and restored)
 * @param state      whether it serves I/O
 * @param detail     why it is not online (e.g. "no provider for type file"), or empty
 * @param blockSize  logical block size, 0 when not open
 * @param blockCount number of blocks, 0 when not open
 * @param serial     unit serial number (VPD 0x80), fixed at creation and saved
 */
public record BackstoreInfo(String name, String type, Map<String, String> parameters, State state, String detail,
                            int blockSize, long blockCount, String serial) {
    public enum State { ONLINE, OFFLINE, FAILED }

    public BackstoreInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        parameters = Map.copyOf(parameters);
        Objects.requireNonNull(state, "state");
        detail = detail == null ? "" : detail;
    }
}
