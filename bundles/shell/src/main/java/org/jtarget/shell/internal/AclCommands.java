package org.jtarget.shell.internal;

import java.util.Comparator;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.AclInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.ChapCredentials;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code acl:*}: initiators allowed into a TPG (LIO's node ACLs) and their CHAP secrets. Secrets are written,
 * never printed.
 */
@Component(service = AclCommands.class)
@GogoCommand(scope = "acl", function = {"add", "remove", "list", "chap", "nochap"})
public final class AclCommands {
    private final TargetService service;

    @Activate
    public AclCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("allows an initiator into a TPG")
    public void add(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                    @Descriptor("INITIATOR: initiator name, e.g. iqn.1993-08.org.debian:01:abcdef") String initiator) {
        int t = Args.tag(tag);
        Args.run(() -> service.addAcl(target, t, initiator));
        System.out.println("Added ACL " + initiator + " to TPG " + t + " of " + target);
    }

    @Descriptor("removes an initiator's ACL and closes its sessions on the TPG")
    public void remove(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                       @Descriptor("INITIATOR: initiator name") String initiator) {
        int t = Args.tag(tag);
        Args.run(() -> service.removeAcl(target, t, initiator));
        System.out.println("Removed ACL " + initiator + " from TPG " + t + " of " + target);
    }

    @Descriptor("lists the initiators allowed into a TPG and how they authenticate (secrets are not shown)")
    public void list(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag) {
        int t = Args.tag(tag);
        TpgInfo tpg = Args.call(() -> service.target(target)).tpgs().stream()
                .filter(g -> g.tag() == t).findFirst()
                .orElseThrow(() -> new CommandFailure("no such TPG: " + t + " of " + target));
        Table table = new Table("INITIATOR", "AUTH");
        tpg.acls().stream().sorted(Comparator.comparing(AclInfo::initiator))
                .forEach(a -> table.row(a.initiator(), auth(a)));
        System.out.print(table);
    }

    @Descriptor("sets one-way CHAP: the initiator must log in as USER with SECRET")
    public void chap(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                     @Descriptor("INITIATOR: initiator name") String initiator,
                     @Descriptor("USER: CHAP user name the initiator sends") String user,
                     @Descriptor("SECRET: CHAP secret the initiator proves, 12 to 255 bytes (12 to 16 for Windows initiators)") String secret) {
        setChap(target, tag, initiator, chap(user, secret, null, null));
    }

    @Descriptor("sets mutual CHAP: the initiator logs in as USER with SECRET, the target answers as"
            + " MUTUAL_USER with MUTUAL_SECRET")
    public void chap(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                     @Descriptor("INITIATOR: initiator name") String initiator,
                     @Descriptor("USER: CHAP user name the initiator sends") String user,
                     @Descriptor("SECRET: CHAP secret the initiator proves, 12 to 255 bytes (12 to 16 for Windows initiators)") String secret,
                     @Descriptor("MUTUAL_USER: user name the target answers with") String mutualUser,
                     @Descriptor("MUTUAL_SECRET: secret the target proves, 12 to 255 bytes, not the same as SECRET") String mutualSecret) {
        setChap(target, tag, initiator, chap(user, secret, mutualUser, mutualSecret));
    }

    @Descriptor("clears an initiator's CHAP secrets")
    public void nochap(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                       @Descriptor("INITIATOR: initiator name") String initiator) {
        int t = Args.tag(tag);
        Args.run(() -> service.setChap(target, t, initiator, null));
        System.out.println("Cleared CHAP of " + initiator + " on TPG " + t + " of " + target);
    }

    private void setChap(String target, String tag, String initiator, ChapCredentials chap) {
        int t = Args.tag(tag);
        Args.run(() -> service.setChap(target, t, initiator, chap));
        System.out.println("Set " + (chap.mutual() ? "mutual" : "one-way") + " CHAP for " + initiator
                + " on TPG " + t + " of " + target + " (user " + chap.user() + ")");
    }

    /** Credentials checked by {@link ChapCredentials#problem()}: the refusal says why, never with the secret. */
    static ChapCredentials chap(String user, String secret, String mutualUser, String mutualSecret) {
        ChapCredentials chap = new ChapCredentials(user, secret, mutualUser, mutualSecret);
        String problem = chap.problem();
        if (problem != null) {
            throw new CommandFailure(problem);
        }
        return chap;
    }

    /** How an ACL authenticates, without its secrets. */
    static String auth(AclInfo acl) {
        ChapCredentials c = acl.chap();
        if (c == null) {
            return "no chap";
        }
        return c.mutual() ? "mutual chap, user " + c.user() + ", target user " + c.mutualUser()
                : "chap, user " + c.user();
    }
}
