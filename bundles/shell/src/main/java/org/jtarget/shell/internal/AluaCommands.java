package org.jtarget.shell.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.AluaGroupInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code alua:*}: ALUA target port groups of a backstore's logical unit (SPC-4 5.15; LIO's
 * alua/tg_pt_gp_$NAME and lun_$ID/alua_tg_pt_gp).
 */
@Component(service = AluaCommands.class)
@GogoCommand(scope = "alua", function = {"create", "delete", "set", "map", "list"})
public final class AluaCommands {
    private final TargetService service;

    @Activate
    public AluaCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("creates a target port group of a backstore's LU, active/optimized, implicit and explicit")
    public void create(@Descriptor("BACKSTORE: backstore name") String backstore,
                       @Descriptor("GROUP: group name") String group,
                       @Descriptor("ID: TARGET PORT GROUP, 1..65535") String id) {
        int n = Args.number(id, "ID", 1, 65535);
        Args.run(() -> service.createAluaGroup(backstore, group, n));
        System.out.println("Created ALUA group " + group + " (id " + n + ") of " + backstore);
    }

    @Descriptor("deletes a target port group that no LUN is mapped to")
    public void delete(@Descriptor("BACKSTORE: backstore name") String backstore,
                       @Descriptor("GROUP: group name") String group) {
        Args.run(() -> service.deleteAluaGroup(backstore, group));
        System.out.println("Deleted ALUA group " + group + " of " + backstore);
    }

    @Descriptor("changes a group, live: state active_optimized|active_nonoptimized|standby|unavailable|offline,"
            + " preferred true|false, mode implicit|explicit|both, transition_time SECONDS (0..255, the IMPLICIT"
            + " TRANSITION TIME reported; default 2)")
    public void set(@Descriptor("BACKSTORE: backstore name") String backstore,
                    @Descriptor("GROUP: group name") String group,
                    @Descriptor("KEY: state, preferred, mode or transition_time") String key,
                    @Descriptor("VALUE: the new value") String value) {
        String v = "preferred".equals(key) ? Args.bool("preferred", value) : value;
        Args.run(() -> service.setAluaGroup(backstore, group, key, v));
        System.out.println("Set " + key + " of ALUA group " + group + " of " + backstore + " to " + v);
    }

    @Descriptor("sets the group through which a TPG reaches the LU mapped at a LUN")
    public void map(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                    @Descriptor("LUN: LUN number, 0..16383") String lun, @Descriptor("GROUP: group name") String group) {
        int t = Args.tag(tag);
        int l = Args.lun(lun);
        Args.run(() -> service.mapAluaGroup(target, t, l, group));
        System.out.println("TPG " + t + " of " + target + " reaches LUN " + l + " through ALUA group " + group);
    }

    @Descriptor("lists a backstore's target port groups with their states and the TPGs (target/tag/lun) in each")
    public void list(@Descriptor("BACKSTORE: backstore name") String backstore) {
        BackstoreInfo info = Args.call(service::backstores).stream().filter(b -> b.name().equals(backstore))
                .findFirst().orElseThrow(() -> new CommandFailure("no such backstore: " + backstore));
        List<AluaGroupInfo> groups = info.aluaGroups().isEmpty()
                ? List.of(new AluaGroupInfo(AluaGroupInfo.DEFAULT_NAME, AluaGroupInfo.DEFAULT_ID,
                        AluaGroupInfo.ACTIVE_OPTIMIZED, false, AluaGroupInfo.BOTH))
                : info.aluaGroups();
        List<TargetInfo> targets = TargetCommands.sorted(Args.call(service::targets));
        Table table = new Table("GROUP", "ID>", "STATE", "PREFERRED", "MODE", "STATUS", "TRANSITION>", "PORTS");
        for (AluaGroupInfo g : groups.stream().sorted(Comparator.comparingInt(AluaGroupInfo::id)).toList()) {
            table.row(g.name(), g.id(), g.state(), g.preferred() ? "yes" : "no", g.mode(), status(g.status()),
                    g.transitionTime() + "s", ports(targets, backstore, g.name()));
        }
        System.out.print(table);
    }

    /** STATUS CODE of REPORT TARGET PORT GROUPS in words. */
    static String status(int code) {
        return switch (code) {
            case 1 -> "by_stpg";
            case 2 -> "implicit";
            default -> "-";
        };
    }

    /** The TPGs (target/tag/lun) that reach {@code backstore} through {@code group}, or "-". */
    private static String ports(List<TargetInfo> targets, String backstore, String group) {
        List<String> out = new ArrayList<>();
        for (TargetInfo t : targets) {
            for (TpgInfo tpg : t.tpgs().stream().sorted(Comparator.comparingInt(TpgInfo::tag)).toList()) {
                for (LunInfo l : tpg.luns()) {
                    String g = l.aluaGroup() == null ? AluaGroupInfo.DEFAULT_NAME : l.aluaGroup();
                    if (l.backstore().equals(backstore) && g.equals(group)) {
                        out.add(t.name() + "/" + tpg.tag() + "/" + l.lun());
                    }
                }
            }
        }
        return out.isEmpty() ? "-" : String.join(",", out);
    }
}
