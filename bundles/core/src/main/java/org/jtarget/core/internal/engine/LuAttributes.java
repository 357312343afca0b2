package org.jtarget.core.internal.engine;

/**
 * The user-set attributes of a logical unit that change how the device server serves it.
 *
 * @param readOnly  the medium is write protected (DATA PROTECT / WRITE PROTECTED, WP in mode data)
 * @param removable the medium is removable (RMB, PREVENT ALLOW MEDIUM REMOVAL, eject and load)
 */
public record LuAttributes(boolean readOnly, boolean removable) {
    public static final LuAttributes DEFAULT = new LuAttributes(false, false);
}
