package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import org.jtarget.scsi.ScsiStatus;

/**
 * The outcome of one SCSI command the fabric submitted, and how it reads as an NBD error.
 *
 * @param status  SCSI status, null when the command was aborted
 * @param data    Data-In (owned by the holder, released with {@link #release()}), or null
 * @param sense   sense bytes for CHECK CONDITION, or null
 */
record ScsiResult(ScsiStatus status, ByteBuf data, byte[] sense) {
    static final ScsiResult ABORTED = new ScsiResult(null, null, null);
    /** SBC-3 sense keys used below. */
    private static final int NOT_READY = 2, ILLEGAL_REQUEST = 5, UNIT_ATTENTION = 6, DATA_PROTECT = 7, VOLUME_OVERFLOW = 0xD;

    boolean ok() {
        return status == ScsiStatus.GOOD || status == ScsiStatus.CONDITION_MET;
    }

    void release() {
        ReferenceCountUtil.release(data);
    }

    int senseKey() {
        if (sense == null || sense.length < 3) {
            return -1;
        }
        int code = sense[0] & 0x7F;
        return (code >= 0x72 ? sense[1] : sense[2]) & 0x0F;
    }

    /** ASC and ASCQ as one number (ASC << 8 | ASCQ), or -1. */
    int ascq() {
        if (sense == null) {
            return -1;
        }
        int code = sense[0] & 0x7F;
        int at = code >= 0x72 ? 2 : 12;
        return sense.length < at + 2 ? -1 : ((sense[at] & 0xFF) << 8) | (sense[at + 1] & 0xFF);
    }

    boolean unitAttention() {
        return status == ScsiStatus.CHECK_CONDITION && senseKey() == UNIT_ATTENTION;
    }

    /**
     * The NBD error for this outcome (0 when it succeeded): RESERVATION CONFLICT and DATA PROTECT (a
     * read-only LU, write protect) give EPERM, except SPACE ALLOCATION FAILED (27h/07h) and VOLUME
     * OVERFLOW which give ENOSPC; ILLEGAL REQUEST gives EINVAL (ENOSPC for a write past the end,
     * LBA OUT OF RANGE 21h/00h); anything else (NOT READY, MEDIUM ERROR, BUSY, aborted) EIO.
     */
    int errno(boolean write) {
        if (ok()) {
            return 0;
        }
        if (status == null) {
            return Nbd.EIO;
        }
        if (status == ScsiStatus.RESERVATION_CONFLICT) {
            return Nbd.EPERM;
        }
        if (status != ScsiStatus.CHECK_CONDITION) {
            return Nbd.EIO;
        }
        return switch (senseKey()) {
            case DATA_PROTECT -> ascq() == 0x2707 ? Nbd.ENOSPC : Nbd.EPERM;
            case VOLUME_OVERFLOW -> Nbd.ENOSPC;
            case ILLEGAL_REQUEST -> write && ascq() == 0x2100 ? Nbd.ENOSPC : Nbd.EINVAL;
            case NOT_READY -> Nbd.EIO;
            default -> Nbd.EIO;
        };
    }

    /** For the structured error chunk and logs: e.g. "CHECK CONDITION sense key 7 ASC/ASCQ 27h/00h". */
    String describe() {
        if (status == null) {
            return "command aborted";
        }
        if (status != ScsiStatus.CHECK_CONDITION) {
            return status.name().replace('_', ' ');
        }
        int a = ascq();
        return String.format("CHECK CONDITION sense key %Xh ASC/ASCQ %02Xh/%02Xh", senseKey(), (a >> 8) & 0xFF, a & 0xFF);
    }
}
