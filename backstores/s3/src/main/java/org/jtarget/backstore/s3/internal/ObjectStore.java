package org.jtarget.backstore.s3.internal;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where the objects of one LUN live: object {@code n} holds bytes {@code n * objectSize} to
 * {@code (n + 1) * objectSize - 1}. An absent object reads as zeros. Calls block (they run on the cache's pools).
 */
interface ObjectStore {
    /** The object's bytes, or null when it does not exist. */
    byte[] read(long object) throws IOException;

    /** Stores the readable bytes of {@code data} (position not moved; the buffer stays the caller's). */
    void write(long object, ByteBuffer data) throws IOException;

    /** Deleting an object that does not exist is no error. */
    void delete(long object) throws IOException;

    boolean exists(long object) throws IOException;

    /** For messages: where the objects are, without credentials. */
    String describe();
}
