package org.jtarget.iscsi.internal.pdu;

/**
 * An iSCSI PDU (RFC 7143 §11): an immutable value. PDUs with a data segment implement {@link DataPdu} and
 * hold a reference-counted buffer; whoever handles such a PDU last releases it.
 */
public interface IscsiPdu {
    /** The reserved Initiator/Target Task Tag value (RFC 7143 §11.18.1, §11.19.1). */
    int RESERVED_TAG = 0xffffffff;

    Opcode opcode();

    /** The Initiator Task Tag (BHS bytes 16-19). */
    int itt();

    /** The I bit of BHS byte 0 (immediate delivery); always false for target PDUs. */
    default boolean immediate() {
        return false;
    }
}
