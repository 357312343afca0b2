package org.jtarget.core.internal.sense;

import java.util.Objects;
import org.jtarget.scsi.SenseReason;

/**
 * One CHECK CONDITION's sense: a {@link SenseReason} plus the optional INFORMATION field and the
 * sense-key specific field pointer (SPC-4 4.5.2.4.2, 4.5.3 SKSV). Immutable; {@link SenseData} writes it.
 */
public final class Sense {
    private final SenseReason reason;
    private final long information;
    private final boolean informationValid;
    private final int fieldPointer;
    private final int bitPointer;
    private final boolean inCdb;
    private final int progress;

    private Sense(SenseReason reason, long information, boolean informationValid, int fieldPointer, int bitPointer,
                  boolean inCdb) {
        this(reason, information, informationValid, fieldPointer, bitPointer, inCdb, -1);
    }

    private Sense(SenseReason reason, long information, boolean informationValid, int fieldPointer, int bitPointer,
                  boolean inCdb, int progress) {
        this.progress = progress;
        this.reason = Objects.requireNonNull(reason, "reason");
        this.information = information;
        this.informationValid = informationValid;
        this.fieldPointer = fieldPointer;
        this.bitPointer = bitPointer;
        this.inCdb = inCdb;
    }

    public static Sense of(SenseReason reason) {
        return new Sense(reason, 0, false, -1, -1, false);
    }

    /** INVALID FIELD IN CDB pointing at {@code byteOffset} (and {@code bit}, or -1 for the whole byte). */
    public static Sense invalidCdbField(int byteOffset, int bit) {
        return new Sense(SenseReason.INVALID_FIELD_IN_CDB, 0, false, byteOffset, bit, true);
    }

    /** INVALID FIELD IN PARAMETER LIST pointing at {@code byteOffset} of the parameter data. */
    public static Sense invalidParameterField(int byteOffset, int bit) {
        return new Sense(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, 0, false, byteOffset, bit, false);
    }

    /** This sense with the INFORMATION field set (e.g. the first miscompared offset, SBC-3 5.22). */
    public Sense withInformation(long info) {
        return new Sense(reason, info, true, fieldPointer, bitPointer, inCdb, progress);
    }

    /**
     * This sense with a PROGRESS INDICATION (SPC-4 4.5.2.4.4): the fraction done, 0..65535 of 65536, in
     * the sense-key specific bytes (NOT READY while e.g. a sanitize operation runs).
     */
    public Sense withProgress(int fraction) {
        return new Sense(reason, information, informationValid, -1, -1, false, Math.max(0, Math.min(fraction, 0xFFFF)));
    }

    /** Progress indication (0..65535), or -1 when none. */
    public int progress() {
        return progress;
    }

    public SenseReason reason() {
        return reason;
    }

    public boolean informationValid() {
        return informationValid;
    }

    public long information() {
        return information;
    }

    /** Field pointer for the SKSV field, or -1 when none. */
    public int fieldPointer() {
        return fieldPointer;
    }

    /** Bit pointer (0-7) or -1 when the whole byte is meant. */
    public int bitPointer() {
        return bitPointer;
    }

    /** C/D bit: true when the field pointer addresses the CDB, false for parameter data. */
    public boolean inCdb() {
        return inCdb;
    }

    /** Wraps this sense in an exception a handler may throw or complete a stage with. */
    public ScsiException exception() {
        return new ScsiException(this);
    }

    @Override
    public String toString() {
        return "Sense(" + reason + (informationValid ? ", information=" + information : "")
                + (fieldPointer >= 0 ? ", field=" + (inCdb ? "cdb[" : "param[") + fieldPointer + "]"
                + (bitPointer >= 0 ? " bit " + bitPointer : "") : "")
                + (progress >= 0 ? ", progress=" + progress : "") + ")";
    }
}
