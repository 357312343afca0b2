package org.jtarget.shell.internal;

import java.util.Comparator;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code lun:*}: backstores mapped as LUNs of a TPG (LIO's tpgt_$TAG/lun/lun_$ID). */
@Component(service = LunCommands.class)
@GogoCommand(scope = "lun", function = {"add", "remove", "list"})
public final class LunCommands {
    private final TargetService service;

    @Activate
    public LunCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("maps a backstore as a LUN; logged-in initiators are told the LUN inventory changed")
    public void add(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                    @Descriptor("LUN: LUN number, 0..16383") String lun, @Descriptor("BACKSTORE: backstore name") String backstore) {
        int t = Args.tag(tag);
        int l = Args.lun(lun);
        Args.run(() -> service.addLun(target, t, l, backstore));
        System.out.println("Added LUN " + l + " -> " + backstore + " to TPG " + t + " of " + target);
    }

    @Descriptor("unmaps a LUN (the backstore and its data stay)")
    public void remove(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                       @Descriptor("LUN: LUN number, 0..16383") String lun) {
        int t = Args.tag(tag);
        int l = Args.lun(lun);
        Args.run(() -> service.removeLun(target, t, l));
        System.out.println("Removed LUN " + l + " from TPG " + t + " of " + target);
    }

    @Descriptor("lists the LUNs of every target")
    public void list() {
        print(TargetCommands.sorted(Args.call(service::targets)).toArray(TargetInfo[]::new));
    }

    @Descriptor("lists the LUNs of one target")
    public void list(@Descriptor("TARGET: target name") String target) {
        print(Args.call(() -> service.target(target)));
    }

    private static void print(TargetInfo... targets) {
        Table table = new Table("TARGET", "TPG>", "LUN>", "BACKSTORE", "STATE");
        for (TargetInfo target : targets) {
            for (TpgInfo tpg : target.tpgs().stream().sorted(Comparator.comparingInt(TpgInfo::tag)).toList()) {
                tpg.luns().stream().sorted(Comparator.comparingInt(LunInfo::lun)).forEach(l ->
                        table.row(target.name(), tpg.tag(), l.lun(), l.backstore(), l.online() ? "online" : "offline"));
            }
        }
        System.out.print(table);
    }
}
