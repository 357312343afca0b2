package org.jtarget.scsi;

/** Direction of a command's data transfer, as seen from the initiator. */
public enum DataDirection {
    /** No data phase. */
    NONE,
    /** Data-In: target to initiator (READ). */
    READ,
    /** Data-Out: initiator to target (WRITE). */
    WRITE,
    /** Both directions (e.g. XDWRITEREAD). */
    BIDIRECTIONAL
}
