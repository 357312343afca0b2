package org.jtarget.iscsi.internal.codec;

/** Basic Header Segment layout (RFC 7143 §11.2.1), byte offsets shared by the decoder and encoder. */
final class Bhs {
    static final int LENGTH = 48;
    static final int OPCODE = 0;          // bit 6: I (immediate), bits 0-5: opcode
    static final int FLAGS = 1;           // bit 7: F; opcode-specific below
    static final int TOTAL_AHS_LENGTH = 4; // in 4-byte words
    static final int DATA_SEGMENT_LENGTH = 5; // 3 bytes
    static final int LUN = 8;             // or opcode-specific (ISID+TSIH in login)
    static final int ITT = 16;
    static final int W20 = 20;            // TTT, EDTL, CID, SNACK tag, referenced task tag
    static final int W24 = 24;            // CmdSN (initiator) or StatSN (target)
    static final int W28 = 28;            // ExpStatSN or ExpCmdSN
    static final int W32 = 32;            // MaxCmdSN or CDB
    static final int W36 = 36;            // DataSN, R2TSN, ExpDataSN, status class
    static final int W40 = 40;            // BufferOffset
    static final int W44 = 44;            // residual count, desired length
    static final int IMMEDIATE_BIT = 0x40;
    static final int FINAL_BIT = 0x80;

    private Bhs() {
    }
}
