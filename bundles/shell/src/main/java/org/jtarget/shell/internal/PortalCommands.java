package org.jtarget.shell.internal;

import java.util.Comparator;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code portal:*}: the addresses a TPG listens on (LIO's tpgt_$TAG/np). */
@Component(service = PortalCommands.class)
@GogoCommand(scope = "portal", function = {"add", "remove", "list"})
public final class PortalCommands {
    private final TargetService service;

    @Activate
    public PortalCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("adds a portal; the TPG listens on it at once when its fabric is deployed")
    public void add(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                    @Descriptor("HOST:PORT: address to listen on, [ipv6]:port for IPv6, e.g. 0.0.0.0:3260") String portal) {
        int t = Args.tag(tag);
        Args.run(() -> service.addPortal(target, t, portal));
        System.out.println("Added portal " + portal + " to TPG " + t + " of " + target);
    }

    @Descriptor("removes a portal; the TPG stops listening on it")
    public void remove(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                       @Descriptor("HOST:PORT: the portal's address") String portal) {
        int t = Args.tag(tag);
        Args.run(() -> service.removePortal(target, t, portal));
        System.out.println("Removed portal " + portal + " from TPG " + t + " of " + target);
    }

    @Descriptor("lists the portals of every target")
    public void list() {
        print(TargetCommands.sorted(Args.call(service::targets)).toArray(TargetInfo[]::new));
    }

    @Descriptor("lists the portals of one target")
    public void list(@Descriptor("TARGET: target name") String target) {
        print(Args.call(() -> service.target(target)));
    }

    private static void print(TargetInfo... targets) {
        Table table = new Table("TARGET", "TPG>", "PORTAL");
        for (TargetInfo target : targets) {
            for (TpgInfo tpg : target.tpgs().stream().sorted(Comparator.comparingInt(TpgInfo::tag)).toList()) {
                tpg.portals().stream().sorted().forEach(p -> table.row(target.name(), tpg.tag(), p));
            }
        }
        System.out.print(table);
    }
}
