package org.jtarget.iscsi.internal.codec;

/**
 * Per-connection codec parameters shared by the frame decoder and the encoder, changed by the login handler on
 * the event loop when login completes (RFC 7143 §13.1: digests apply from the first PDU after the final Login
 * Response). Not thread-safe: touch only from the channel's event loop.
 */
public final class ConnectionSettings {
    /** RFC 7143 §13.12: login PDUs carry at most 8192 bytes of data. */
    public static final int LOGIN_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;

    private boolean headerDigest;
    private boolean dataDigest;
    private int maxRecvDataSegmentLength = LOGIN_MAX_RECV_DATA_SEGMENT_LENGTH;

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    /** The largest data segment this side accepts (what it declared as MaxRecvDataSegmentLength). */
    public int maxRecvDataSegmentLength() {
        return maxRecvDataSegmentLength;
    }

    public void headerDigest(boolean on) {
        headerDigest = on;
    }

    public void dataDigest(boolean on) {
        dataDigest = on;
    }

    public void maxRecvDataSegmentLength(int length) {
        if (length < 512 || length > 0xffffff) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength: " + length + " (expected: 512..16777215)");
        }
        maxRecvDataSegmentLength = length;
    }
}
