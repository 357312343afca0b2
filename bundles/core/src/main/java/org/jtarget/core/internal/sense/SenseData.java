package org.jtarget.core.internal.sense;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;

/**
 * The only writer of sense bytes (LIO's translate_sense_reason): fixed format 70h (SPC-4 4.5.3) or,
 * when the control mode page's D_SENSE bit is set, descriptor format 72h (SPC-4 4.5.2).
 */
public final class SenseData {
    /** Fixed format length: 8 header bytes + ADDITIONAL SENSE LENGTH 10 (SPC-4 4.5.3, table 45). */
    public static final int FIXED_LENGTH = 18;

    private SenseData() {
    }

    public static byte[] encode(Sense sense, boolean descriptorFormat) {
        return descriptorFormat ? descriptor(sense) : fixed(sense);
    }

    /** SPC-4 4.5.3: fixed format sense data. */
    static byte[] fixed(Sense s) {
        byte[] b = new byte[FIXED_LENGTH];
        SenseReason r = s.reason();
        b[0] = (byte) (0x70 | (s.informationValid() ? 0x80 : 0)); // VALID + RESPONSE CODE 70h (current)
        b[2] = (byte) r.key().code();
        if (s.informationValid()) { // INFORMATION, bytes 3-6 (low 32 bits)
            long info = s.information();
            b[3] = (byte) (info >>> 24);
            b[4] = (byte) (info >>> 16);
            b[5] = (byte) (info >>> 8);
            b[6] = (byte) info;
        }
        b[7] = (byte) (FIXED_LENGTH - 8); // ADDITIONAL SENSE LENGTH
        b[12] = (byte) r.asc();
        b[13] = (byte) r.ascq();
        if (s.fieldPointer() >= 0) { // SENSE KEY SPECIFIC bytes 15-17, field pointer (SPC-4 4.5.2.4.2)
            b[15] = sksvByte(s);
            b[16] = (byte) (s.fieldPointer() >>> 8);
            b[17] = (byte) s.fieldPointer();
        } else if (s.progress() >= 0) { // SKSV + PROGRESS INDICATION (SPC-4 4.5.2.4.4)
            b[15] = (byte) 0x80;
            b[16] = (byte) (s.progress() >>> 8);
            b[17] = (byte) s.progress();
        }
        return b;
    }

    /** SPC-4 4.5.2: descriptor format, with information (type 00h) and sense-key specific (02h) descriptors. */
    static byte[] descriptor(Sense s) {
        boolean sks = s.fieldPointer() >= 0 || s.progress() >= 0;
        int len = 8 + (s.informationValid() ? 12 : 0) + (sks ? 8 : 0);
        byte[] b = new byte[len];
        SenseReason r = s.reason();
        b[0] = 0x72;
        b[1] = (byte) r.key().code();
        b[2] = (byte) r.asc();
        b[3] = (byte) r.ascq();
        b[7] = (byte) (len - 8);
        int p = 8;
        if (s.informationValid()) { // SPC-4 4.5.2.2: information sense data descriptor
            b[p] = 0x00;
            b[p + 1] = 0x0A;
            b[p + 2] = (byte) 0x80; // VALID
            long info = s.information();
            for (int i = 0; i < 8; i++) {
                b[p + 4 + i] = (byte) (info >>> (56 - 8 * i));
            }
            p += 12;
        }
        if (s.fieldPointer() >= 0) { // SPC-4 4.5.2.3: sense key specific sense data descriptor
            b[p] = 0x02;
            b[p + 1] = 0x06;
            b[p + 4] = sksvByte(s);
            b[p + 5] = (byte) (s.fieldPointer() >>> 8);
            b[p + 6] = (byte) s.fieldPointer();
        } else if (s.progress() >= 0) {
            b[p] = 0x02;
            b[p + 1] = 0x06;
            b[p + 4] = (byte) 0x80; // SKSV
            b[p + 5] = (byte) (s.progress() >>> 8);
            b[p + 6] = (byte) s.progress();
        }
        return b;
    }

    private static byte sksvByte(Sense s) {
        int v = 0x80 | (s.inCdb() ? 0x40 : 0); // SKSV, C/D
        if (s.bitPointer() >= 0) {
            v |= 0x08 | (s.bitPointer() & 0x07); // BPV, BIT POINTER
        }
        return (byte) v;
    }

    /**
     * The sense a failure stands for: {@link ScsiException} and {@link BackstoreException} carry theirs;
     * anything else is LOGICAL UNIT COMMUNICATION FAILURE, which makes initiators retry.
     */
    public static Sense fromThrowable(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ScsiException se) {
            return se.sense();
        }
        if (t instanceof BackstoreException be) {
            return Sense.of(be.reason());
        }
        return Sense.of(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE);
    }
}
