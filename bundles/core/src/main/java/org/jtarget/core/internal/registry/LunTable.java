package org.jtarget.core.internal.registry;

import java.util.Arrays;
import org.jtarget.core.internal.engine.LogicalUnit;

/**
 * An immutable LUN -> LU table: sorted LUN numbers and their units. Replaced as a whole on change
 * (copy-on-write), so the per-command lookup is a lock-free binary search.
 */
final class LunTable {
    static final LunTable EMPTY = new LunTable(new int[0], new LogicalUnit[0], new String[0]);

    private final int[] luns;
    private final LogicalUnit[] units;
    private final String[] backstores;

    private LunTable(int[] luns, LogicalUnit[] units, String[] backstores) {
        this.luns = luns;
        this.units = units;
        this.backstores = backstores;
    }

    LogicalUnit get(int lun) {
        int i = Arrays.binarySearch(luns, lun);
        return i < 0 ? null : units[i];
    }

    String backstore(int lun) {
        int i = Arrays.binarySearch(luns, lun);
        return i < 0 ? null : backstores[i];
    }

    int[] luns() {
        return luns.clone();
    }

    int size() {
        return luns.length;
    }

    int lunAt(int index) {
        return luns[index];
    }

    String backstoreAt(int index) {
        return backstores[index];
    }

    LunTable with(int lun, LogicalUnit unit, String backstore) {
        int i = Arrays.binarySearch(luns, lun);
        if (i >= 0) {
            throw new IllegalStateException("LUN " + lun + " is mapped");
        }
        int at = -i - 1;
        int n = luns.length;
        int[] l = new int[n + 1];
        LogicalUnit[] u = new LogicalUnit[n + 1];
        String[] b = new String[n + 1];
        System.arraycopy(luns, 0, l, 0, at);
        System.arraycopy(units, 0, u, 0, at);
        System.arraycopy(backstores, 0, b, 0, at);
        l[at] = lun;
        u[at] = unit;
        b[at] = backstore;
        System.arraycopy(luns, at, l, at + 1, n - at);
        System.arraycopy(units, at, u, at + 1, n - at);
        System.arraycopy(backstores, at, b, at + 1, n - at);
        return new LunTable(l, u, b);
    }

    LunTable without(int lun) {
        int i = Arrays.binarySearch(luns, lun);
        if (i < 0) {
            return this;
        }
        int n = luns.length;
        int[] l = new int[n - 1];
        LogicalUnit[] u = new LogicalUnit[n - 1];
        String[] b = new String[n - 1];
        System.arraycopy(luns, 0, l, 0, i);
        System.arraycopy(units, 0, u, 0, i);
        System.arraycopy(backstores, 0, b, 0, i);
        System.arraycopy(luns, i + 1, l, i, n - i - 1);
        System.arraycopy(units, i + 1, u, i, n - i - 1);
        System.arraycopy(backstores, i + 1, b, i, n - i - 1);
        return new LunTable(l, u, b);
    }
}
