package org.jtarget.core.internal.registry;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jtarget.api.TargetException;
import org.jtarget.api.TargetService;
import org.jtarget.core.internal.engine.LuAttributes;

/** Backstore (logical unit) attributes: the keys users may set, their checks, and what the engine gets. */
final class Attributes {
    /** Known keys with their default values. */
    static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(TargetService.ATTR_READ_ONLY, "false");
        d.put(TargetService.ATTR_REMOVABLE, "false");
        d.put(TargetService.ATTR_PHYSICAL_BLOCK_SIZE, "the logical block size");
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private Attributes() {
    }

    /** Checks one key and value (null value: reset to the default); returns the value to keep, or null. */
    static String check(String backstore, String key, String value) {
        if (key == null || !DEFAULTS.containsKey(key)) {
            throw new TargetException("unknown backstore attribute: " + key + " (expected one of: "
                    + String.join(", ", DEFAULTS.keySet()) + ")");
        }
        if (value == null) {
            return null;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (key.equals(TargetService.ATTR_PHYSICAL_BLOCK_SIZE)) {
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 512 || n > (1 << 20) || Integer.bitCount(n) != 1) {
                throw new TargetException("attribute " + key + " of backstore " + backstore + ": " + value
                        + " (expected: a power of two from 512 to 1048576 bytes, e.g. 4096)");
            }
            return Integer.toString(n);
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw new TargetException("attribute " + key + " of backstore " + backstore + ": " + value
                    + " (expected: true or false)");
        }
        return v;
    }

    /** Checks a whole saved map; returns it normalised (sorted, lower-case values). */
    static Map<String, String> checkAll(String backstore, Map<String, String> attributes) {
        Map<String, String> out = new TreeMap<>();
        if (attributes != null) {
            attributes.forEach((k, v) -> {
                String checked = check(backstore, k, v);
                if (checked != null) {
                    out.put(k, checked);
                }
            });
        }
        return out;
    }

    static LuAttributes toEngine(Map<String, String> attributes) {
        String physical = attributes.get(TargetService.ATTR_PHYSICAL_BLOCK_SIZE);
        return new LuAttributes("true".equals(attributes.get(TargetService.ATTR_READ_ONLY)),
                "true".equals(attributes.get(TargetService.ATTR_REMOVABLE)),
                physical == null ? 0 : Integer.parseInt(physical));
    }
}
