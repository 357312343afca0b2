package org.jtarget.backstore.nbd.internal;

/**
 * What the handshake agreed on for one connection.
 *
 * @param size             export size in bytes
 * @param flags            transmission flags (NBD_FLAG_*)
 * @param minBlock         minimum block size (1 when the server sent no constraints)
 * @param preferredBlock   preferred block size (4096 when none)
 * @param maxPayload       maximum payload in bytes (32 MiB when none)
 * @param structured       structured replies negotiated
 * @param allocationContext the context id of {@code base:allocation}, or -1 when not negotiated
 * @param viaGo            NBD_OPT_GO was used (false: the NBD_OPT_EXPORT_NAME fallback)
 */
record Export(long size, int flags, int minBlock, int preferredBlock, long maxPayload, boolean structured,
              long allocationContext, boolean viaGo) {
    static final long DEFAULT_MAX_PAYLOAD = 32L << 20;

    /** The most one request of ours asks for: the server's maximum payload, at most 32 MiB. */
    long maxRequestBytes() {
        return Math.min(maxPayload, DEFAULT_MAX_PAYLOAD);
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Whether another connection's export is the same disk as far as this client can tell. */
    boolean sameAs(Export other) {
        return size == other.size && flags == other.flags;
    }
}
