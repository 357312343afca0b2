package org.jtarget.config.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;

/** The first-start tree, and the {@code jtarget.portal} override of the default target's portal. */
final class Defaults {
    static final String BACKSTORE = "default";
    static final String TARGET = "iqn.2026-11.org.jtarget:default";
    static final String FABRIC = "iscsi";
    static final int TAG = 1;
    static final String PORTAL = "127.0.0.1:3260";

    private Defaults() {
    }

    /**
     * Backstore {@code default} (a 1 GiB file {@code data/default.img}), target {@value #TARGET} on
     * iSCSI with TPG 1 open to every initiator, listening on {@code portal} (or {@value #PORTAL}), LUN 0.
     * Built as a saved tree so that it restores before the file backstore is deployed (it stays OFFLINE
     * until then); createBackstore would refuse an absent type.
     */
    static Configuration firstStart(String portal) {
        BackstoreInfo backstore = new BackstoreInfo(BACKSTORE, "file", Map.of("file", "default.img", "size", "1G"),
                BackstoreInfo.State.OFFLINE, "", 0, 0, null);
        TpgInfo tpg = new TpgInfo(TAG,
                Map.of(TargetService.ATTR_GENERATE_NODE_ACLS, "true", TargetService.ATTR_AUTHENTICATION, "none"),
                List.of(portal == null || portal.isBlank() ? PORTAL : portal.trim()),
                List.of(new LunInfo(0, BACKSTORE, false)), List.of());
        return new Configuration(List.of(backstore), List.of(new TargetInfo(TARGET, FABRIC, List.of(tpg))));
    }

    /**
     * The saved tree with the default target's TPG 1 listening on {@code portal} only, or the tree
     * unchanged when {@code portal} is unset or that TPG does not exist.
     */
    static Configuration withPortal(Configuration c, String portal) {
        if (portal == null || portal.isBlank()) {
            return c;
        }
        List<TargetInfo> targets = new ArrayList<>(c.targets().size());
        for (TargetInfo t : c.targets()) {
            if (!t.name().equals(TARGET)) {
                targets.add(t);
                continue;
            }
            List<TpgInfo> tpgs = new ArrayList<>();
            for (TpgInfo g : t.tpgs()) {
                tpgs.add(g.tag() != TAG ? g
                        : new TpgInfo(g.tag(), g.attributes(), List.of(portal.trim()), g.luns(), g.acls()));
            }
            targets.add(new TargetInfo(t.name(), t.fabric(), tpgs));
        }
        return new Configuration(c.backstores(), targets);
    }
}
