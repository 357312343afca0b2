package org.jtarget.core.internal.registry;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetService;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.TpgLimit;

/** Checks of what users set: backstore parameters, TPG attributes, CHAP secrets. */
final class Validation {
    private Validation() {
    }

    /** Checks the user's parameters against the provider's descriptors; returns them with defaults added. */
    static Map<String, String> validate(BackstoreProvider provider, String type, Map<String, String> params) {
        Map<String, ParameterDescriptor> known = new LinkedHashMap<>();
        provider.parameters().forEach(d -> known.put(d.name(), d));
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (!known.containsKey(e.getKey())) {
                throw new TargetException("unknown parameter for backstore type " + type + ": " + e.getKey()
                        + " (expected one of: " + String.join(", ", known.keySet()) + ")");
            }
            if (e.getValue() == null || e.getValue().isEmpty()) {
                throw new TargetException("empty value for parameter " + e.getKey() + " of backstore type " + type);
            }
        }
        for (ParameterDescriptor d : known.values()) {
            if (d.required() && !params.containsKey(d.name())) {
                throw new TargetException("missing required parameter for backstore type " + type + ": "
                        + d.name() + " (" + d.description() + ")");
            }
        }
        return withDefaults(provider, params);
    }

    static Map<String, String> withDefaults(BackstoreProvider provider, Map<String, String> params) {
        Map<String, String> effective = new HashMap<>();
        for (ParameterDescriptor d : provider.parameters()) {
            if (d.defaultValue() != null) {
                effective.put(d.name(), d.defaultValue());
            }
        }
        effective.putAll(params);
        return effective;
    }

    /** Returns the value to store (normalised), or null to remove. */
    static String checkAttribute(String fabric, String key, String value) {
        if (key == null || key.isEmpty()) {
            throw new TargetException("TPG attribute: empty name");
        }
        if (key.equals(TargetService.ATTR_GENERATE_NODE_ACLS)) {
            if (value == null) {
                return null;
            }
            String v = value.trim().toLowerCase(Locale.ROOT);
            return switch (v) {
                case "true", "1", "yes", "on" -> "true";
                case "false", "0", "no", "off" -> "false";
                default -> throw new TargetException(TargetService.ATTR_GENERATE_NODE_ACLS + ": " + value + " (expected true or false)");
            };
        }
        if (key.equals(TargetService.ATTR_AUTHENTICATION)) {
            if (value == null) {
                return null;
            }
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (!v.equals("none") && !v.equals("chap")) {
                throw new TargetException(TargetService.ATTR_AUTHENTICATION + ": " + value + " (expected none or chap)");
            }
            return v;
        }
        TpgLimit limit = TpgLimit.forKey(key);
        if (limit != null) {
            if (value == null) {
                return null;
            }
            try {
                return Integer.toString(limit.parse(value));
            } catch (IllegalArgumentException e) {
                throw new TargetException(e.getMessage());
            }
        }
        String prefix = fabric + ".";
        if (key.startsWith(prefix) && key.length() > prefix.length()) {
            if (value != null && value.isEmpty()) {
                throw new TargetException("TPG attribute " + key + ": empty value (to remove it, give no value)");
            }
            return value;
        }
        StringBuilder limits = new StringBuilder();
        for (TpgLimit l : TpgLimit.values()) {
            limits.append(l.key()).append(", ");
        }
        throw new TargetException("unknown TPG attribute: " + key + " (expected " + TargetService.ATTR_GENERATE_NODE_ACLS + ", "
                + TargetService.ATTR_AUTHENTICATION + ", " + limits + "or a " + fabric + " parameter written " + prefix
                + "<key>)");
    }

    static void checkChap(ChapCredentials chap) {
        if (chap == null) {
            return;
        }
        String problem = chap.problem(); // lengths, and RFC 7143 §9.2.1: one secret per direction
        if (problem != null) {
            throw new TargetException(problem);
        }
    }
}
