package org.jtarget.api;

import java.util.List;
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
 * @param attributes logical unit attributes set by the user (e.g. {@code read_only=true}), as saved;
 *                   absent keys have their default
 * @param aluaGroups its ALUA target port groups (since 1.2); empty means the default group alone, active/optimized
 */
public record BackstoreInfo(String name, String type, Map<String, String> parameters, State state, String detail,
                            int blockSize, long blockCount, String serial, Map<String, String> attributes,
                            List<AluaGroupInfo> aluaGroups) {
    public enum State { ONLINE, OFFLINE, FAILED }

    public BackstoreInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        parameters = Map.copyOf(parameters);
        Objects.requireNonNull(state, "state");
        detail = detail == null ? "" : detail;
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
        aluaGroups = aluaGroups == null ? List.of() : List.copyOf(aluaGroups);
    }

    /** Without ALUA groups (API 1.1 callers). */
    public BackstoreInfo(String name, String type, Map<String, String> parameters, State state, String detail,
                         int blockSize, long blockCount, String serial, Map<String, String> attributes) {
        this(name, type, parameters, state, detail, blockSize, blockCount, serial, attributes, List.of());
    }

    /** Without attributes (API 1.0 callers). */
    public BackstoreInfo(String name, String type, Map<String, String> parameters, State state, String detail,
                         int blockSize, long blockCount, String serial) {
        this(name, type, parameters, state, detail, blockSize, blockCount, serial, Map.of());
    }
}
