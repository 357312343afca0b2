package org.jtarget.core.internal.registry;

import java.util.Map;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.spi.backstore.Backstore;

/**
 * One backstore object: the user's parameters, its serial, the engine's logical unit and, while
 * online, the open {@link Backstore}. Changed only under the registry lock.
 */
final class BackstoreObject {
    final String name;
    final String type;
    /** The user's parameters, as saved. */
    final Map<String, String> parameters;
    final String serial;
    final LogicalUnit unit;
    /** The user's LU attributes (checked, as saved); replaced as a whole. */
    Map<String, String> attributes = Map.of();
    /** Open storage while ONLINE, else null. */
    Backstore backstore;
    BackstoreInfo.State state = BackstoreInfo.State.OFFLINE;
    String detail = "";
    /** Bumped on every open or close, so a stale background open knows it lost the race. */
    long generation;
    /** An open of this object is running (see {@link Opener}). */
    boolean opening;

    BackstoreObject(String name, String type, Map<String, String> parameters, String serial, LogicalUnit unit) {
        this.name = name;
        this.type = type;
        this.parameters = Map.copyOf(parameters);
        this.serial = serial;
        this.unit = unit;
    }

    /** The APTPL file of this object's persistent reservations: {@code <home>/data/pr/<name>.properties}. */
    static java.nio.file.Path reservationsFile(java.nio.file.Path dataDirectory, String name) {
        return dataDirectory.resolve("pr").resolve(name + ".properties");
    }

    /** Replaces the attributes and applies them to the logical unit. */
    void attributes(Map<String, String> checked) {
        attributes = Map.copyOf(checked);
        unit.attributes(Attributes.toEngine(attributes));
    }

    void online(Backstore opened) {
        backstore = opened;
        state = BackstoreInfo.State.ONLINE;
        detail = "";
        generation++;
        unit.attach(opened);
    }

    /** Takes the LU offline and returns the storage to close once drained (or null). */
    Backstore offline(BackstoreInfo.State newState, String why) {
        Backstore old = unit.detach();
        if (old == null) {
            old = backstore;
        }
        backstore = null;
        state = newState;
        detail = why;
        generation++;
        return old;
    }

    BackstoreInfo info() {
        Backstore b = backstore;
        return new BackstoreInfo(name, type, parameters, state, detail,
                b == null ? 0 : b.blockSize(), b == null ? 0 : b.blockCount(), serial, attributes,
                AluaAdmin.info(unit));
    }
}
