package org.jtarget.api;

import java.util.List;

/**
 * A target.
 *
 * @param name   its name, e.g. {@code iqn.2026-11.org.jtarget:default}
 * @param fabric the fabric serving it, e.g. {@code iscsi}
 * @param tpgs   its portal groups, by tag
 */
public record TargetInfo(String name, String fabric, List<TpgInfo> tpgs) {
    public TargetInfo {
        tpgs = List.copyOf(tpgs);
    }
}
