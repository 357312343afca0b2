package org.jtarget.core.internal.registry;

import java.util.concurrent.ConcurrentSkipListMap;

/** A target: its name, its fabric and its TPGs by tag. TPGs change only under the registry lock. */
final class Target {
    final String name;
    final String fabric;
    final ConcurrentSkipListMap<Integer, Tpg> tpgs = new ConcurrentSkipListMap<>();

    Target(String name, String fabric) {
        this.name = name;
        this.fabric = fabric;
    }
}
