package org.jtarget.core.internal.spc;

import io.netty.buffer.ByteBuf;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;

/**
 * The mode pages of one logical unit (SPC-4 7.5, SBC-3 6.4): caching (08h), control (0Ah) and
 * informational exceptions control (1Ch). Changeable: D_SENSE and SWP in the control page. Saved
 * values are not implemented (SAVING PARAMETERS NOT SUPPORTED).
 */
public final class ModePages {
    public static final int CACHING = 0x08;
    public static final int CONTROL = 0x0A;
    public static final int INFORMATIONAL_EXCEPTIONS = 0x1C;
    public static final int ALL = 0x3F;

    /** Page control (SPC-4 6.11.1, table 98). */
    public static final int PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3;

    private static final int[] PAGES = {CACHING, CONTROL, INFORMATIONAL_EXCEPTIONS};

    private volatile boolean descriptorSense;
    private volatile boolean softwareWriteProtect;

    /** D_SENSE: sense data in descriptor format (SPC-4 7.5.8). */
    public boolean descriptorSense() {
        return descriptorSense;
    }

    /** SWP: the medium is write protected (SPC-4 7.5.8). */
    public boolean softwareWriteProtect() {
        return softwareWriteProtect;
    }

    public static boolean known(int page) {
        return page == CACHING || page == CONTROL || page == INFORMATIONAL_EXCEPTIONS;
    }

    /**
     * Appends {@code page} (or all pages for 3Fh) as page control {@code pc} asks.
     *
     * @param wce the backstore's write cache state (WCE in the caching page)
     */
    public void write(ByteBuf b, int page, int pc, boolean wce) {
        if (pc == PC_SAVED) {
            throw Sense.of(SenseReason.SAVING_PARAMETERS_NOT_SUPPORTED).exception();
        }
        if (page == ALL) {
            for (int p : PAGES) {
                writePage(b, p, pc, wce);
            }
        } else {
            writePage(b, page, pc, wce);
        }
    }

    private void writePage(ByteBuf b, int page, int pc, boolean wce) {
        boolean changeable = pc == PC_CHANGEABLE;
        boolean current = pc == PC_CURRENT;
        switch (page) {
            case CACHING -> { // SBC-3 6.4.5, page length 12h
                b.writeByte(CACHING).writeByte(0x12);
                b.writeByte(changeable ? 0 : (wce ? 0x04 : 0)); // WCE
                b.writeZero(0x12 - 1);
            }
            case CONTROL -> { // SPC-4 7.5.8, page length 0Ah
                b.writeByte(CONTROL).writeByte(0x0A);
                if (changeable) {
                    b.writeByte(0x04); // D_SENSE
                    b.writeByte(0x00);
                    b.writeByte(0x08); // SWP
                    b.writeZero(0x0A - 3);
                } else {
                    boolean d = current && descriptorSense;
                    boolean swp = current && softwareWriteProtect;
                    b.writeByte(0x02 | (d ? 0x04 : 0)); // TST 000b, GLTSD 1, D_SENSE
                    b.writeByte(0x10); // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering, QERR 00b
                    b.writeByte(swp ? 0x08 : 0); // UA_INTLCK_CTRL 00b, SWP
                    b.writeByte(0x00); // ATO 0, TAS 0, AUTOLOAD MODE 0
                    b.writeShort(0); // obsolete
                    b.writeShort(0xFFFF); // BUSY TIMEOUT PERIOD: unlimited
                    b.writeShort(0); // EXTENDED SELF-TEST COMPLETION TIME
                }
            }
            case INFORMATIONAL_EXCEPTIONS -> { // SPC-4 7.5.11, page length 0Ah, MRIE 0: no reporting
                b.writeByte(INFORMATIONAL_EXCEPTIONS).writeByte(0x0A);
                b.writeZero(0x0A);
            }
            default -> throw new IllegalArgumentException("page: " + page + " (expected: 08h, 0Ah or 1Ch)");
        }
    }

    /**
     * Applies one page of MODE SELECT parameter data ({@code p} at {@code off}, SPC-4 6.9): the page must
     * be known, have its exact length, and change only changeable fields.
     *
     * @return the number of bytes the page took, with bit 32 set when a value changed (other nexuses
     *     then get MODE PARAMETERS CHANGED)
     */
    public long select(byte[] p, int off, int end, boolean wce) {
        if (end - off < 2) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        int code = p[off] & 0x3F;
        if ((p[off] & 0x40) != 0 || !known(code)) { // SPF (subpages) not served
            throw Sense.invalidParameterField(off, -1).exception();
        }
        ByteBuf cur = io.netty.buffer.Unpooled.buffer(32);
        ByteBuf chg = io.netty.buffer.Unpooled.buffer(32);
        writePage(cur, code, PC_CURRENT, wce);
        writePage(chg, code, PC_CHANGEABLE, wce);
        int len = cur.readableBytes();
        if ((p[off + 1] & 0xFF) != len - 2) {
            throw Sense.invalidParameterField(off + 1, -1).exception();
        }
        if (end - off < len) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        for (int i = 2; i < len; i++) {
            int diff = (p[off + i] ^ cur.getByte(i)) & 0xFF & ~(chg.getByte(i) & 0xFF);
            if (diff != 0) {
                throw Sense.invalidParameterField(off + i, 31 - Integer.numberOfLeadingZeros(diff)).exception();
            }
        }
        boolean changed = false;
        if (code == CONTROL) {
            boolean d = (p[off + 2] & 0x04) != 0;
            boolean swp = (p[off + 4] & 0x08) != 0;
            changed = d != descriptorSense || swp != softwareWriteProtect;
            descriptorSense = d;
            softwareWriteProtect = swp;
        }
        return len | (changed ? 1L << 32 : 0);
    }

    void copyFrom(ModePages other) {
        descriptorSense = other.descriptorSense;
        softwareWriteProtect = other.softwareWriteProtect;
    }

    /** Resets the changeable values to their defaults. */
    public void reset() {
        descriptorSense = false;
        softwareWriteProtect = false;
    }
}
