package org.jtarget.shell.internal;

import java.nio.charset.StandardCharsets;
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
    /**
     * RFC 7143 §9.2.1: a secret shorter than 96 bits is only allowed under IPsec encryption, which jtarget
     * cannot verify; initiators (e.g. Microsoft's) refuse shorter ones too.
     */
    static final int MIN_SECRET_BYTES = 12;

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
                     @Descriptor("SECRET: CHAP secret the initiator proves, at least 12 characters") String secret) {
        setChap(target, tag, initiator, chap(user, secret, null, null));
    }

    @Descriptor("sets mutual CHAP: the initiator logs in as USER with SECRET, the target answers as"
            + " MUTUAL_USER with MUTUAL_SECRET")
    public void chap(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                     @Descriptor("INITIATOR: initiator name") String initiator,
                     @Descriptor("USER: CHAP user name the initiator sends") String user,
                     @Descriptor("SECRET: CHAP secret the initiator proves, at least 12 characters") String secret,
                     @Descriptor("MUTUAL_USER: user name the target answers with") String mutualUser,
                     @Descriptor("MUTUAL_SECRET: secret the target proves, at least 12 characters, not SECRET") String mutualSecret) {
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

    static ChapCredentials chap(String user, String secret, String mutualUser, String mutualSecret) {
        checkSecret("CHAP secret", secret);
        if (mutualUser != null) {
            checkSecret("mutual CHAP secret", mutualSecret);
            if (mutualSecret.equals(secret)) {
                // RFC 7143 §9.2.1: the two directions must not share a secret
                throw new CommandFailure("mutual CHAP secret: same as the initiator's secret (expected a different one)");
            }
        }
        if (user.isEmpty() || (mutualUser != null && mutualUser.isEmpty())) {
            throw new CommandFailure("CHAP user: empty (expected a name)");
        }
        return new ChapCredentials(user, secret, mutualUser, mutualSecret);
    }

    private static void checkSecret(String what, String secret) {
        int length = secret.getBytes(StandardCharsets.UTF_8).length;
        if (length < MIN_SECRET_BYTES) {
            throw new CommandFailure(what + ": " + length + " bytes (expected at least " + MIN_SECRET_BYTES + ")");
        }
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
