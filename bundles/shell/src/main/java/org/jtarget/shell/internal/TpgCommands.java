package org.jtarget.shell.internal;

import java.util.Locale;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.TpgLimit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code tpg:*}: target portal groups (LIO's $WWN/tpgt_$TAG) and their attributes. */
@Component(service = TpgCommands.class)
@GogoCommand(scope = "tpg", function = {"create", "delete", "set", "unset"})
public final class TpgCommands {
    private final TargetService service;

    @Activate
    public TpgCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("creates a TPG (no portal, LUN or ACL yet)")
    public void create(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag) {
        int t = Args.tag(tag);
        TpgInfo tpg = Args.call(() -> service.createTpg(target, t));
        System.out.println("Created TPG " + tpg.tag() + " of " + target);
    }

    @Descriptor("deletes a TPG with its portals, LUN mappings and ACLs; its sessions are closed")
    public void delete(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag) {
        int t = Args.tag(tag);
        Args.run(() -> service.deleteTpg(target, t));
        System.out.println("Deleted TPG " + t + " of " + target);
    }

    @Descriptor("sets a TPG attribute: generate_node_acls (true: any initiator may log in), authentication"
            + " (none or chap), a limit (max_sessions, max_sessions_per_initiator, max_logins_per_address,"
            + " login_timeout, cmdsn_window, max_unsolicited_bytes, max_data_in_bytes), or a fabric parameter"
            + " such as iscsi.MaxRecvDataSegmentLength")
    public void set(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                    @Descriptor("KEY: attribute name") String key, @Descriptor("VALUE: attribute value") String value) {
        int t = Args.tag(tag);
        String v = normalize(key, value);
        Args.run(() -> service.setTpgAttribute(target, t, key, v));
        System.out.println("TPG " + t + " of " + target + ": " + key + " = " + Args.shown(key, v));
    }

    @Descriptor("removes a TPG attribute so that its default applies again")
    public void unset(@Descriptor("TARGET: target name") String target, @Descriptor("TAG: TPG tag, 1..65535") String tag,
                      @Descriptor("KEY: attribute name") String key) {
        int t = Args.tag(tag);
        Args.run(() -> service.setTpgAttribute(target, t, key, null));
        System.out.println("TPG " + t + " of " + target + ": " + key + " back to its default");
    }

    /** Checks the values of the attributes the core defines; fabric parameters are the fabric's to check. */
    static String normalize(String key, String value) {
        switch (key) {
            case TargetService.ATTR_GENERATE_NODE_ACLS:
                return Args.bool(key, value);
            case TargetService.ATTR_AUTHENTICATION: {
                String v = value.toLowerCase(Locale.ROOT);
                if (!v.equals("none") && !v.equals("chap")) {
                    throw new CommandFailure(key + ": " + value + " (expected none or chap)");
                }
                return v;
            }
            default: {
                TpgLimit limit = TpgLimit.forKey(key);
                if (limit == null) {
                    return value;
                }
                try {
                    return Integer.toString(limit.parse(value));
                } catch (IllegalArgumentException e) {
                    throw new CommandFailure(e.getMessage());
                }
            }
        }
    }
}
