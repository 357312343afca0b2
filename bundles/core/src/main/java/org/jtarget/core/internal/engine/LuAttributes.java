package org.jtarget.core.internal.engine;

/**
 * The user-set attributes of a logical unit that change how the device server serves it.
 *
 * @param readOnly          the medium is write protected (DATA PROTECT / WRITE PROTECTED, WP in mode data)
 * @param removable         the medium is removable (RMB, PREVENT ALLOW MEDIUM REMOVAL, eject and load)
 * @param physicalBlockSize physical block size in bytes to report (LBPPBE), or 0: the logical block size
 */
public record LuAttributes(boolean readOnly, boolean removable, int physicalBlockSize) {
    public static final LuAttributes DEFAULT = new LuAttributes(false, false, 0);

    public LuAttributes(boolean readOnly, boolean removable) {
        this(readOnly, removable, 0);
    }
}
