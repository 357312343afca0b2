package org.jtarget.api;

import java.util.List;

/** The whole object tree, as saved and restored. */
public record Configuration(List<BackstoreInfo> backstores, List<TargetInfo> targets) {
    public Configuration {
        backstores = List.copyOf(backstores);
        targets = List.copyOf(targets);
    }
}
