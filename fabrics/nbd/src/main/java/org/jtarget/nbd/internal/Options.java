package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.TpgEndpoint;
import org.jtarget.spi.fabric.TpgLimit;

/**
 * Option haggling (doc/proto.md "Option types"): LIST, INFO, GO, EXPORT_NAME, ABORT, STRUCTURED_REPLY,
 * LIST_META_CONTEXT and SET_META_CONTEXT ({@code base:allocation}); anything else is NBD_REP_ERR_UNSUP.
 * INFO, GO and EXPORT_NAME open an I_T nexus on the export's TPG and read the LU's facts through it
 * (READ CAPACITY(16), MODE SENSE): INFO closes it again, GO and EXPORT_NAME keep it for transmission.
 */
final class Options {
    private Options() {
    }

    /** Handles one option; {@code data} is valid only during this call. */
    static void handle(NbdConnection c, int option, ByteBuf data) {
        switch (option) {
            case Nbd.OPT_ABORT -> {
                c.reply(option, Nbd.REP_ACK, null);
                c.closeAfterFlush();
            }
            case Nbd.OPT_LIST -> list(c, data);
            case Nbd.OPT_STRUCTURED_REPLY -> {
                if (data.isReadable()) {
                    error(c, option, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
                } else {
                    c.structured(true);
                    c.reply(option, Nbd.REP_ACK, null);
                }
            }
            case Nbd.OPT_INFO, Nbd.OPT_GO -> infoOrGo(c, option, data);
            case Nbd.OPT_EXPORT_NAME -> exportName(c, data.toString(StandardCharsets.UTF_8));
            case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> metaContext(c, option, data);
            default -> error(c, option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
        }
        c.flush();
    }

    private static void error(NbdConnection c, int option, int type, String message) {
        c.reply(option, type, c.alloc().buffer().writeBytes(message.getBytes(StandardCharsets.UTF_8)));
    }

    /** The exports on this portal this client may use, by name. */
    private static List<TpgEndpoint> visible(NbdConnection c) {
        List<TpgEndpoint> out = new ArrayList<>(c.core().discover(c.fabric(), c.local(), c.initiatorName()));
        out.removeIf(e -> !c.allowedBy(e));
        return out;
    }

    private static void list(NbdConnection c, ByteBuf data) {
        if (data.isReadable()) {
            error(c, Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        for (TpgEndpoint e : visible(c)) {
            byte[] name = e.targetName().getBytes(StandardCharsets.UTF_8);
            ByteBuf r = c.alloc().buffer(4 + name.length);
            r.writeInt(name.length).writeBytes(name);
            c.reply(Nbd.OPT_LIST, Nbd.REP_SERVER, r);
        }
        c.reply(Nbd.OPT_LIST, Nbd.REP_ACK, null);
    }

    /**
     * The export a name chooses: "" is the default export, the only one visible on this portal.
     *
     * @return the TPG, or empty with the error type and message already known through {@code why}
     */
    private static Optional<TpgEndpoint> resolve(NbdConnection c, String name, String[] why) {
        if (name.isEmpty()) {
            List<TpgEndpoint> v = visible(c);
            if (v.size() == 1) {
                return Optional.of(v.get(0));
            }
            why[0] = "no default export (" + v.size() + " exports here: name one)";
            return Optional.empty();
        }
        Optional<TpgEndpoint> tpg = c.core().lookup(c.fabric(), name, c.local());
        if (tpg.isEmpty()) {
            why[0] = "export " + NetworkText.quote(name) + ": not found on this portal";
        } else if (!c.allowedBy(tpg.get()) || tpg.get().access(c.initiatorName()).isEmpty()) {
            why[0] = "export " + NetworkText.quote(name) + ": not open to " + c.initiatorName() + " (" + AddressRanges.KEY + ", ACL)";
            why[1] = "policy";
            return Optional.empty();
        }
        return tpg;
    }

    private static void infoOrGo(NbdConnection c, int option, ByteBuf data) {
        if (data.readableBytes() < 6 || data.getUnsignedInt(data.readerIndex()) > data.readableBytes() - 6L) {
            error(c, option, Nbd.REP_ERR_INVALID, "option length: " + data.readableBytes() + " (expected: 4 + name + 2 + 2 per request)");
            return;
        }
        String name = data.readCharSequence(data.readInt(), StandardCharsets.UTF_8).toString();
        int n = data.readUnsignedShort();
        if (data.readableBytes() != 2 * n) {
            error(c, option, Nbd.REP_ERR_INVALID, "information requests: " + data.readableBytes() + " bytes (expected: " + 2 * n + ")");
            return;
        }
        List<Integer> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            requests.add(data.readUnsignedShort());
        }
        String[] why = new String[2];
        Optional<TpgEndpoint> tpg = resolve(c, name, why);
        if (tpg.isEmpty()) {
            error(c, option, "policy".equals(why[1]) ? Nbd.REP_ERR_POLICY : Nbd.REP_ERR_UNKNOWN, why[0]);
            return;
        }
        String export = tpg.get().targetName();
        openAndProbe(c, option, tpg.get(), (lu, facts) -> {
            int flags = transmissionFlags(c, facts);
            c.reply(option, Nbd.REP_INFO, c.alloc().buffer(12).writeShort(Nbd.INFO_EXPORT).writeLong(facts.size()).writeShort(flags));
            c.reply(option, Nbd.REP_INFO, c.alloc().buffer(14).writeShort(Nbd.INFO_BLOCK_SIZE).writeInt(facts.blockSize())
                    .writeInt(Math.max(Nbd.PREFERRED_BLOCK, facts.blockSize())).writeInt(Nbd.MAX_PAYLOAD));
            if (requests.contains(Nbd.INFO_NAME)) {
                c.reply(option, Nbd.REP_INFO, c.alloc().buffer().writeShort(Nbd.INFO_NAME)
                        .writeBytes(export.getBytes(StandardCharsets.UTF_8)));
            }
            if (requests.contains(Nbd.INFO_DESCRIPTION)) {
                String d = "jtarget LUN 0 of " + export + " TPG " + tpg.get().tag();
                c.reply(option, Nbd.REP_INFO, c.alloc().buffer().writeShort(Nbd.INFO_DESCRIPTION)
                        .writeBytes(d.getBytes(StandardCharsets.UTF_8)));
            }
            c.reply(option, Nbd.REP_ACK, null);
            c.flush();
            if (option == Nbd.OPT_GO) {
                c.enter(export, lu, facts, TpgLimit.CMDSN_WINDOW.valueIn(tpg.get().parameters()));
            } else {
                lu.close();
                c.resume();
            }
        });
    }

    /** NBD_OPT_EXPORT_NAME: no reply on failure but the end of the connection (doc/proto.md). */
    private static void exportName(NbdConnection c, String name) {
        String[] why = new String[2];
        Optional<TpgEndpoint> tpg = resolve(c, name, why);
        if (tpg.isEmpty()) {
            c.fail(why[0]);
            return;
        }
        openAndProbe(c, Nbd.OPT_EXPORT_NAME, tpg.get(), (lu, facts) -> {
            ByteBuf r = c.alloc().buffer(134);
            r.writeLong(facts.size()).writeShort(transmissionFlags(c, facts));
            if (!c.noZeroes()) {
                r.writeZero(124);
            }
            c.ctx().writeAndFlush(r);
            c.enter(tpg.get().targetName(), lu, facts, TpgLimit.CMDSN_WINDOW.valueIn(tpg.get().parameters()));
        });
    }

    private interface Opened {
        void accept(LuAccess lu, LuAccess.Facts facts);
    }

    private static void openAndProbe(NbdConnection c, int option, TpgEndpoint tpg, Opened then) {
        LuAccess lu;
        try {
            lu = c.open(tpg);
        } catch (FabricException e) {
            failOption(c, option, Nbd.REP_ERR_POLICY, "export " + tpg.targetName() + ": " + e.getMessage());
            return;
        }
        c.busy();
        lu.probe().whenComplete((facts, error) -> c.ctx().executor().execute(() -> {
            if (error != null) {
                lu.close();
                String m = error.getCause() != null ? error.getCause().getMessage() : error.getMessage();
                failOption(c, option, Nbd.REP_ERR_UNKNOWN, "export " + tpg.targetName() + ": LUN 0: " + m);
                c.flush();
                c.resume();
                return;
            }
            then.accept(lu, facts);
        }));
    }

    private static void failOption(NbdConnection c, int option, int type, String message) {
        if (option == Nbd.OPT_EXPORT_NAME) {
            c.fail(message);
        } else {
            error(c, option, type, message);
        }
    }

    static int transmissionFlags(NbdConnection c, LuAccess.Facts facts) {
        int f = Nbd.TF_HAS_FLAGS | Nbd.TF_SEND_FLUSH | Nbd.TF_SEND_FUA | Nbd.TF_SEND_WRITE_ZEROES | Nbd.TF_SEND_FAST_ZERO
                | Nbd.TF_SEND_CACHE | Nbd.TF_CAN_MULTI_CONN;
        if (facts.readOnly()) {
            f |= Nbd.TF_READ_ONLY;
        }
        if (facts.thin()) {
            f |= Nbd.TF_SEND_TRIM;
        }
        if (c.structured()) {
            f |= Nbd.TF_SEND_DF;
        }
        return f;
    }

    /** LIST/SET_META_CONTEXT: only base:allocation exists; SET needs structured replies first. */
    private static void metaContext(NbdConnection c, int option, ByteBuf data) {
        boolean set = option == Nbd.OPT_SET_META_CONTEXT;
        if (set && !c.structured()) {
            error(c, option, Nbd.REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT before NBD_OPT_STRUCTURED_REPLY");
            return;
        }
        List<String> queries = new ArrayList<>();
        String name;
        try {
            name = string(data);
            long n = data.readUnsignedInt();
            for (long i = 0; i < n; i++) {
                queries.add(string(data));
            }
            if (data.isReadable()) {
                throw new IndexOutOfBoundsException();
            }
        } catch (IndexOutOfBoundsException e) {
            error(c, option, Nbd.REP_ERR_INVALID, "meta context request: malformed lengths");
            return;
        }
        String[] why = new String[2];
        Optional<TpgEndpoint> tpg = resolve(c, name, why);
        if (tpg.isEmpty()) {
            error(c, option, "policy".equals(why[1]) ? Nbd.REP_ERR_POLICY : Nbd.REP_ERR_UNKNOWN, why[0]);
            return;
        }
        boolean allocation = set ? queries.contains(Nbd.BASE_ALLOCATION)
                : queries.isEmpty() || queries.stream().anyMatch(q -> q.equals("base:") || q.equals(Nbd.BASE_ALLOCATION));
        if (allocation) {
            byte[] n = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            c.reply(option, Nbd.REP_META_CONTEXT, c.alloc().buffer(4 + n.length).writeInt(Nbd.BASE_ALLOCATION_ID).writeBytes(n));
        }
        if (set) {
            c.metaContext(tpg.get().targetName(), allocation);
        }
        c.reply(option, Nbd.REP_ACK, null);
    }

    private static String string(ByteBuf data) {
        long len = data.readUnsignedInt();
        if (len > data.readableBytes() || len > Nbd.MAX_STRING) {
            throw new IndexOutOfBoundsException();
        }
        return data.readCharSequence((int) len, StandardCharsets.UTF_8).toString();
    }
}
