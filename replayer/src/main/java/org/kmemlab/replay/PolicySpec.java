package org.kmemlab.replay;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One policy of a replay: a preset of the registry, optionally under a name of its own with knobs of its own,
 * so that two variants of one preset can be compared in one replay:
 * {@code -p list=spl-emergency,spl.emergencyIndex=LIST -p tree=spl-emergency,spl.emergencyIndex=RBTREE}.
 * The name is the output folder and the {@code policy} column; the variant's knobs win over {@code --set}
 * and over the trace's hints, as the preset's own knobs do.
 *
 * @param name   output folder and summary name
 * @param preset the registry's policy
 * @param knobs  the variant's settings, in the order given
 */
public record PolicySpec(String name, String preset, Map<String, String> knobs) {
    public PolicySpec {
        // Map.copyOf would iterate in an order that changes from JVM to JVM: keep the order given
        knobs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(knobs));
    }

    /** A preset under its own name. */
    public static PolicySpec of(String preset) { return new PolicySpec(preset, preset, Map.of()); }

    /**
     * {@code PRESET} or {@code NAME=PRESET[,KEY=VALUE...]}. A name is a folder name: letters, digits, '.', '_'
     * and '-', not starting with '.'.
     */
    public static PolicySpec parse(String s) {
        int eq = s.indexOf('=');
        int comma = s.indexOf(',');
        if (eq < 0 || (comma >= 0 && comma < eq)) {
            if (comma >= 0) throw new IllegalArgumentException("policy '" + s + "': knobs need a name for the variant: NAME=PRESET,KEY=VALUE");
            return of(s.strip());
        }
        String name = s.substring(0, eq).strip();
        if (!name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("policy '" + s + "': '" + name + "' is not a name of letters, digits, '.', '_' and '-'");
        }
        String[] parts = s.substring(eq + 1).split(",");
        String preset = parts[0].strip();
        if (preset.isEmpty()) throw new IllegalArgumentException("policy '" + s + "': expected NAME=PRESET[,KEY=VALUE...]");
        Map<String, String> knobs = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String kv = parts[i];
            int e = kv.indexOf('=');
            if (e <= 0) throw new IllegalArgumentException("policy '" + s + "': '" + kv.strip() + "' is not KEY=VALUE");
            knobs.put(kv.substring(0, e).strip(), kv.substring(e + 1).strip());
        }
        return new PolicySpec(name, preset, knobs);
    }
}
