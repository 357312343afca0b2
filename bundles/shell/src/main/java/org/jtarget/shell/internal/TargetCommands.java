package org.jtarget.shell.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.AclInfo;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code target:*}: targets (LIO's $FABRIC/$WWN) and the tree view of one target. */
@Component(service = TargetCommands.class)
@GogoCommand(scope = "target", function = {"list", "show", "create", "delete"})
public final class TargetCommands {
    private final TargetService service;

    @Activate
    public TargetCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("lists the targets with their TPG, portal, LUN and ACL counts")
    public void list() {
        Table table = new Table("TARGET", "FABRIC", "TPGS>", "PORTALS>", "LUNS>", "ACLS>");
        for (TargetInfo t : sorted(Args.call(service::targets))) {
            table.row(t.name(), t.fabric(), t.tpgs().size(),
                    t.tpgs().stream().mapToInt(g -> g.portals().size()).sum(),
                    t.tpgs().stream().mapToInt(g -> g.luns().size()).sum(),
                    t.tpgs().stream().mapToInt(g -> g.acls().size()).sum());
        }
        System.out.print(table);
    }

    @Descriptor("shows a target as a tree: its TPGs with their attributes, portals, LUNs and ACLs")
    public void show(@Descriptor("TARGET: target name, e.g. iqn.2026-11.org.jtarget:default") String name) {
        TargetInfo target = Args.call(() -> service.target(name));
        Map<String, Map<String, String>> attributes = new TreeMap<>();
        Args.call(service::backstores).forEach(b -> attributes.put(b.name(), b.attributes()));
        System.out.print(tree(target, attributes));
    }

    @Descriptor("creates a target with no TPG (add one with tpg:create)")
    public void create(
            @Descriptor("fabric serving the target (default iscsi)")
            @Parameter(names = {"-f", "--fabric"}, absentValue = "iscsi") String fabric,
            @Descriptor("NAME: target name, e.g. iqn.2026-11.org.example:disk1") String name) {
        TargetInfo t = Args.call(() -> service.createTarget(fabric, name));
        System.out.println("Created target " + t.name() + " (fabric " + t.fabric() + ")");
    }

    @Descriptor("deletes a target with its TPGs, LUN mappings and ACLs; its sessions are closed")
    public void delete(@Descriptor("NAME: target name") String name) {
        Args.run(() -> service.deleteTarget(name));
        System.out.println("Deleted target " + name);
    }

    static List<TargetInfo> sorted(List<TargetInfo> targets) {
        return targets.stream().sorted(Comparator.comparing(TargetInfo::name)).collect(Collectors.toList());
    }

    /** The ASCII tree of one target (ASCII so that any terminal and locale shows it). */
    static String tree(TargetInfo target) {
        return tree(target, Map.of());
    }

    /** The tree, LUNs followed by their backstore's attributes that are set (e.g. {@code [read_only]}). */
    static String tree(TargetInfo target, Map<String, Map<String, String>> backstoreAttributes) {
        Node root = new Node(target.name() + "  [fabric " + target.fabric() + "]");
        if (target.tpgs().isEmpty()) {
            root.add("(no TPG: add one with tpg:create " + target.name() + " 1)");
        }
        for (TpgInfo tpg : target.tpgs().stream().sorted(Comparator.comparingInt(TpgInfo::tag)).toList()) {
            Node t = root.add("tpg " + tpg.tag());
            Node attrs = t.add("attributes");
            Map<String, String> sortedAttrs = new TreeMap<>(tpg.attributes());
            sortedAttrs.forEach((k, v) -> attrs.add(k + " = " + Args.shown(k, v)));
            if (sortedAttrs.isEmpty()) {
                attrs.add("(defaults)");
            }
            Node portals = t.add("portals");
            tpg.portals().stream().sorted().forEach(portals::add);
            none(portals);
            Node luns = t.add("luns");
            tpg.luns().stream().sorted(Comparator.comparingInt(LunInfo::lun))
                    .forEach(l -> luns.add("lun " + l.lun() + " -> " + l.backstore()
                            + BackstoreCommands.flags(backstoreAttributes.getOrDefault(l.backstore(), Map.of()))
                            + (l.online() ? "" : "  (offline)")));
            none(luns);
            Node acls = t.add("acls");
            tpg.acls().stream().sorted(Comparator.comparing(AclInfo::initiator))
                    .forEach(a -> acls.add(a.initiator() + "  [" + AclCommands.auth(a) + "]"));
            none(acls);
        }
        StringBuilder out = new StringBuilder();
        root.print(out, "", "");
        return out.toString();
    }

    private static void none(Node node) {
        if (node.children.isEmpty()) {
            node.add("(none)");
        }
    }

    private static final class Node {
        final String label;
        final List<Node> children = new ArrayList<>();

        Node(String label) {
            this.label = label;
        }

        Node add(String childLabel) {
            Node child = new Node(childLabel);
            children.add(child);
            return child;
        }

        void print(StringBuilder out, String lead, String childLead) {
            out.append(lead).append(label).append('\n');
            for (int i = 0; i < children.size(); i++) {
                boolean last = i == children.size() - 1;
                children.get(i).print(out, childLead + (last ? "`- " : "|- "), childLead + (last ? "   " : "|  "));
            }
        }
    }
}
