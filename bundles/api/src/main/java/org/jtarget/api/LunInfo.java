package org.jtarget.api;

/**
 * A LUN of a TPG.
 *
 * @param lun       the LUN number (0..16383)
 * @param backstore the backstore object's name
 * @param online    whether its backstore serves I/O (otherwise commands get NOT READY)
 */
public record LunInfo(int lun, String backstore, boolean online) {
}
