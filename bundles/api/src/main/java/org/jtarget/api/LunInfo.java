package org.jtarget.api;

/**
 * A LUN of a TPG.
 *
 * @param lun       the LUN number (0..16383)
 * @param backstore the backstore object's name
 * @param online    whether its backstore serves I/O (otherwise commands get NOT READY)
 * @param aluaGroup the ALUA target port group of the backstore through which this TPG reaches it, or null for
 *                  {@value AluaGroupInfo#DEFAULT_NAME} (since 1.2)
 */
public record LunInfo(int lun, String backstore, boolean online, String aluaGroup) {
    /** In the default ALUA group (API 1.1 callers). */
    public LunInfo(int lun, String backstore, boolean online) {
        this(lun, backstore, online, null);
    }
}
