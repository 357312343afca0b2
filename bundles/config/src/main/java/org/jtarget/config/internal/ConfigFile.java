package org.jtarget.config.internal;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import com.google.gson.Strictness;
import com.google.gson.annotations.SerializedName;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.EOFException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtarget.api.AclInfo;
import org.jtarget.api.AluaGroupInfo;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.fabric.ChapCredentials;

/**
 * The saved document, {@code conf/jtarget.json}: a versioned JSON tree a person can read and edit.
 *
 * <pre>
 * { "version": 1,
 *   "backstores": [ { "name": "default", "type": "file", "serial": "3f2a...",
 *                     "parameters": { "file": "default.img", "size": "1G" },
 *                     "attributes": { "read_only": "true" },
 *                     "alua_groups": [ { "name": "default_tg_pt_gp", "id": 1, "state": "active_optimized",
 *                                        "preferred": false, "mode": "both", "status": 2,
 *                                        "transition_time": 10 } ] } ],
 *   "targets": [ { "name": "iqn.2026-11.org.jtarget:default", "fabric": "iscsi",
 *                  "tpgs": [ { "tag": 1, "attributes": { "authentication": "none", "generate_node_acls": "true" },
 *                              "portals": [ "127.0.0.1:3260" ],
 *                              "luns": [ { "lun": 0, "backstore": "default", "alua_group": "east" } ],
 *                              "acls": [ { "initiator": "iqn...", "chap": { "user": "u", "secret": "s" } } ] } ] } ] }
 * </pre>
 *
 * Runtime state (online, sizes) is not saved. Maps are written sorted so that saves diff cleanly.
 */
final class ConfigFile {
    static final int VERSION = 1;

    /** The file cannot be used at all: not JSON, wrong shape or an unknown version. */
    static final class UnreadableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnreadableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** What was read, and the entries it had to leave out (one line each). */
    record Loaded(Configuration configuration, List<String> problems) {
    }

    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .setStrictness(Strictness.STRICT)
            .create();

    private ConfigFile() {
    }

    static Loaded read(Path file) throws IOException, UnreadableException {
        Doc doc;
        List<String> unknown = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonReader reader = new JsonReader(in);
            reader.setStrictness(Strictness.STRICT);
            JsonElement tree = JsonParser.parseReader(reader);
            boolean trailing;
            try {
                trailing = reader.peek() != JsonToken.END_DOCUMENT;
            } catch (MalformedJsonException e) {
                trailing = true;
            }
            if (trailing) {
                throw new JsonSyntaxException("text after the document (" + location(reader.toString()) + ")");
            }
            if (tree.isJsonNull()) {
                throw new UnreadableException("the file is empty", null);
            }
            unknownKeys(tree, Doc.class, "", unknown);
            doc = GSON.fromJson(tree, Doc.class);
        } catch (JsonParseException | IllegalStateException | MalformedJsonException | EOFException e) {
            throw new UnreadableException("not a valid jtarget configuration: " + rootMessage(e), e);
        }
        if (doc.version == null || doc.version != VERSION) {
            throw new UnreadableException("version: " + doc.version + " (expected " + VERSION + ")", null);
        }
        Loaded loaded = toConfiguration(doc);
        unknown.addAll(loaded.problems());
        return new Loaded(loaded.configuration(), unknown);
    }

    /** Names keys the document shape does not have (a typo such as "portal" would otherwise vanish silently). */
    private static void unknownKeys(JsonElement e, Class<?> shape, String path, List<String> out) {
        if (e == null || !e.isJsonObject()) {
            return;
        }
        Set<String> known = KEYS.get(shape);
        for (Map.Entry<String, JsonElement> entry : e.getAsJsonObject().entrySet()) {
            String key = entry.getKey();
            if (!known.contains(key)) {
                out.add("unknown key \"" + (path.isEmpty() ? key : path + "." + key)
                        + "\" (ignored; it will not be saved again)");
                continue;
            }
            Class<?> inner = NESTED.get(key);
            JsonElement value = entry.getValue();
            if (inner == null) {
                continue;
            }
            String where = path.isEmpty() ? key : path + "." + key;
            if (value.isJsonArray()) {
                int i = 0;
                for (JsonElement item : value.getAsJsonArray()) {
                    unknownKeys(item, inner, where + "[" + i++ + "]", out);
                }
            } else {
                unknownKeys(value, inner, where, out);
            }
        }
    }

    /** The keys of each object in the document, from the shape's fields (JSON names). */
    private static final Map<Class<?>, Set<String>> KEYS = new HashMap<>();
    /** Keys holding objects (or lists of objects), and their shape. */
    private static final Map<String, Class<?>> NESTED = Map.of("backstores", BackstoreDoc.class,
            "targets", TargetDoc.class, "tpgs", TpgDoc.class, "luns", LunDoc.class, "acls", AclDoc.class,
            "chap", ChapDoc.class, "alua_groups", AluaGroupDoc.class);

    static {
        for (Class<?> c : List.of(Doc.class, BackstoreDoc.class, TargetDoc.class, TpgDoc.class, LunDoc.class,
                AclDoc.class, ChapDoc.class, AluaGroupDoc.class)) {
            Set<String> keys = new HashSet<>();
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                SerializedName name = f.getAnnotation(SerializedName.class);
                keys.add(name != null ? name.value() : f.getName());
            }
            KEYS.put(c, keys);
        }
    }

    static void write(Path file, Configuration configuration) throws IOException {
        Doc doc = toDoc(configuration);
        AtomicFile.write(file, out -> {
            GSON.toJson(doc, Doc.class, out);
            out.write('\n');
        });
    }

    static String toJson(Configuration configuration) {
        return GSON.toJson(toDoc(configuration));
    }

    /** Gson's message without its advice to parse leniently: what is wrong and where. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        m = m.lines().findFirst().orElse(m);
        if (m.startsWith("Use JsonReader.setStrictness")) {
            return "malformed JSON " + location(m);
        }
        return m;
    }

    /** The "at line L column C path P" part of a Gson message. */
    private static String location(String message) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("at line \\d+ column \\d+( path \\S+)?").matcher(message);
        return m.find() ? m.group() : message;
    }

    // ---- document shape (field names are the JSON keys) ----

    static final class Doc {
        Integer version;
        List<BackstoreDoc> backstores;
        List<TargetDoc> targets;
    }

    static final class BackstoreDoc {
        String name;
        String type;
        String serial;
        Map<String, String> parameters;
        /** LU attributes (read_only, removable); absent in files written before API 1.1. */
        Map<String, String> attributes;
        /** ALUA target port groups; absent when the LU has only the default group, as it comes (API 1.2). */
        @SerializedName("alua_groups")
        List<AluaGroupDoc> aluaGroups;
    }

    static final class AluaGroupDoc {
        String name;
        Integer id;
        String state;
        Boolean preferred;
        String mode;
        /** STATUS CODE of REPORT TARGET PORT GROUPS (0, 1, 2); absent: 0. */
        Integer status;
        /** IMPLICIT TRANSITION TIME in seconds; absent: the default. */
        @SerializedName("transition_time")
        Integer transitionTime;
    }

    static final class TargetDoc {
        String name;
        String fabric;
        List<TpgDoc> tpgs;
    }

    static final class TpgDoc {
        Integer tag;
        Map<String, String> attributes;
        List<String> portals;
        List<LunDoc> luns;
        List<AclDoc> acls;
    }

    static final class LunDoc {
        Integer lun;
        String backstore;
        /** The ALUA group this TPG reaches the LU through; absent: the default group. */
        @SerializedName("alua_group")
        String aluaGroup;
    }

    static final class AclDoc {
        String initiator;
        ChapDoc chap;
    }

    static final class ChapDoc {
        String user;
        String secret;
        @SerializedName("mutual_user")
        String mutualUser;
        @SerializedName("mutual_secret")
        String mutualSecret;
    }

    // ---- Configuration -> document ----

    private static Doc toDoc(Configuration c) {
        Doc doc = new Doc();
        doc.version = VERSION;
        doc.backstores = new ArrayList<>();
        for (BackstoreInfo b : c.backstores()) {
            BackstoreDoc d = new BackstoreDoc();
            d.name = b.name();
            d.type = b.type();
            d.serial = b.serial();
            d.parameters = new TreeMap<>(b.parameters());
            d.attributes = b.attributes().isEmpty() ? null : new TreeMap<>(b.attributes());
            if (!b.aluaGroups().isEmpty()) {
                d.aluaGroups = new ArrayList<>();
                for (AluaGroupInfo g : b.aluaGroups()) {
                    AluaGroupDoc gd = new AluaGroupDoc();
                    gd.name = g.name();
                    gd.id = g.id();
                    gd.state = g.state();
                    gd.preferred = g.preferred();
                    gd.mode = g.mode();
                    gd.status = g.status() == 0 ? null : g.status();
                    gd.transitionTime = g.transitionTime() == AluaGroupInfo.DEFAULT_TRANSITION_TIME ? null
                            : g.transitionTime();
                    d.aluaGroups.add(gd);
                }
            }
            doc.backstores.add(d);
        }
        doc.targets = new ArrayList<>();
        for (TargetInfo t : c.targets()) {
            TargetDoc d = new TargetDoc();
            d.name = t.name();
            d.fabric = t.fabric();
            d.tpgs = new ArrayList<>();
            for (TpgInfo tpg : t.tpgs()) {
                TpgDoc g = new TpgDoc();
                g.tag = tpg.tag();
                g.attributes = new TreeMap<>(tpg.attributes());
                g.portals = tpg.portals();
                g.luns = new ArrayList<>();
                for (LunInfo l : tpg.luns()) {
                    LunDoc ld = new LunDoc();
                    ld.lun = l.lun();
                    ld.backstore = l.backstore();
                    ld.aluaGroup = l.aluaGroup();
                    g.luns.add(ld);
                }
                g.acls = new ArrayList<>();
                for (AclInfo a : tpg.acls()) {
                    AclDoc ad = new AclDoc();
                    ad.initiator = a.initiator();
                    if (a.chap() != null) {
                        ad.chap = new ChapDoc();
                        ad.chap.user = a.chap().user();
                        ad.chap.secret = a.chap().secret();
                        ad.chap.mutualUser = a.chap().mutualUser();
                        ad.chap.mutualSecret = a.chap().mutualSecret();
                    }
                    g.acls.add(ad);
                }
                d.tpgs.add(g);
            }
            doc.targets.add(d);
        }
        return doc;
    }

    // ---- document -> Configuration, skipping (and naming) entries that are incomplete ----

    private static Loaded toConfiguration(Doc doc) {
        List<String> problems = new ArrayList<>();
        List<BackstoreInfo> backstores = new ArrayList<>();
        int i = 0;
        for (BackstoreDoc b : nonNull(doc.backstores)) {
            String where = "backstores[" + i++ + "]";
            if (b == null || b.name == null || b.type == null) {
                problems.add(where + ": needs \"name\" and \"type\" (entry skipped)");
                continue;
            }
            Map<String, String> params = map(b.parameters, where + " " + b.name + " parameters", problems);
            Map<String, String> attributes = map(b.attributes, where + " " + b.name + " attributes", problems);
            backstores.add(new BackstoreInfo(b.name, b.type, params, BackstoreInfo.State.OFFLINE, "", 0, 0, b.serial,
                    attributes, aluaGroups(where + " " + b.name, b.aluaGroups, problems)));
        }
        List<TargetInfo> targets = new ArrayList<>();
        i = 0;
        for (TargetDoc t : nonNull(doc.targets)) {
            String where = "targets[" + i++ + "]";
            if (t == null || t.name == null || t.fabric == null) {
                problems.add(where + ": needs \"name\" and \"fabric\" (entry skipped)");
                continue;
            }
            List<TpgInfo> tpgs = new ArrayList<>();
            for (TpgDoc g : nonNull(t.tpgs)) {
                if (g == null || g.tag == null) {
                    problems.add("target " + t.name + ": a TPG needs a \"tag\" (entry skipped)");
                    continue;
                }
                tpgs.add(tpg(t.name, g, problems));
            }
            targets.add(new TargetInfo(t.name, t.fabric, tpgs));
        }
        return new Loaded(new Configuration(backstores, targets), problems);
    }

    private static TpgInfo tpg(String target, TpgDoc g, List<String> problems) {
        String where = "target " + target + " tpg " + g.tag;
        List<String> portals = new ArrayList<>();
        for (String p : nonNull(g.portals)) {
            if (p != null) {
                portals.add(p);
            }
        }
        List<LunInfo> luns = new ArrayList<>();
        for (LunDoc l : nonNull(g.luns)) {
            if (l == null || l.lun == null || l.backstore == null) {
                problems.add(where + ": a LUN needs \"lun\" and \"backstore\" (entry skipped)");
            } else {
                luns.add(new LunInfo(l.lun, l.backstore, false, l.aluaGroup));
            }
        }
        List<AclInfo> acls = new ArrayList<>();
        for (AclDoc a : nonNull(g.acls)) {
            if (a == null || a.initiator == null) {
                problems.add(where + ": an ACL needs \"initiator\" (entry skipped)");
                continue;
            }
            ChapCredentials chap = null;
            if (a.chap != null) {
                try {
                    chap = new ChapCredentials(a.chap.user, a.chap.secret, a.chap.mutualUser, a.chap.mutualSecret);
                } catch (NullPointerException | IllegalArgumentException e) {
                    problems.add(where + " acl " + a.initiator + ": chap needs \"user\" and \"secret\", and for mutual"
                            + " CHAP both \"mutual_user\" and \"mutual_secret\" (ACL skipped)");
                    continue;
                }
            }
            acls.add(new AclInfo(a.initiator, chap));
        }
        return new TpgInfo(g.tag, map(g.attributes, where + " attributes", problems), portals, luns, acls);
    }

    private static List<AluaGroupInfo> aluaGroups(String where, List<AluaGroupDoc> docs, List<String> problems) {
        List<AluaGroupInfo> out = new ArrayList<>();
        for (AluaGroupDoc g : nonNull(docs)) {
            if (g == null || g.name == null || g.id == null || g.state == null) {
                problems.add(where + ": an ALUA group needs \"name\", \"id\" and \"state\" (entry skipped)");
                continue;
            }
            out.add(new AluaGroupInfo(g.name, g.id, g.state, Boolean.TRUE.equals(g.preferred),
                    g.mode == null ? AluaGroupInfo.BOTH : g.mode, g.status == null ? 0 : g.status,
                    g.transitionTime == null ? AluaGroupInfo.DEFAULT_TRANSITION_TIME : g.transitionTime));
        }
        return out;
    }

    private static Map<String, String> map(Map<String, String> m, String where, List<String> problems) {
        Map<String, String> out = new TreeMap<>();
        if (m != null) {
            m.forEach((k, v) -> {
                if (v == null) {
                    problems.add(where + ": " + k + " has no value (skipped)");
                } else {
                    out.put(k, v);
                }
            });
        }
        return out;
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }
}
