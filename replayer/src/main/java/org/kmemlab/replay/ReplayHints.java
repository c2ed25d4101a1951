package org.kmemlab.replay;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceInfo;

/**
 * Replay settings a trace carries in its schema metadata as {@code kmemlab.hint.<key>} = value, where
 * {@code <key>} is any {@code --set} key (SCHEMA.md, "Replay hints"): defaults that explicit options override,
 * so that a generated scenario replays as its seed describes with no flags. A hint never overrides a knob the
 * chosen policy preset sets itself: the preset is the policy being compared.
 */
final class ReplayHints {
    static final String PREFIX = "kmemlab.hint.";

    private ReplayHints() {}

    /** The hints of {@code trace}, by {@code --set} key, sorted. A hint that no replay accepts is bad input. */
    static Map<String, String> of(Path trace, TraceInfo info, String policy) {
        Map<String, String> hints = new TreeMap<>();
        for (Map.Entry<String, String> e : info.header.entrySet()) {
            if (e.getKey().startsWith(PREFIX) && e.getKey().length() > PREFIX.length()) {
                hints.put(e.getKey().substring(PREFIX.length()), e.getValue());
            }
        }
        if (!hints.isEmpty()) {
            // an unknown policy is the command line's mistake, not the trace's
            hints.keySet().removeAll(PolicyRegistry.byName(policy).knobs().keySet());
            // Checked alone, so that a bad hint is blamed on the trace and a bad --set on the command line.
            try {
                Replayer.Settings.parse(policy, hints);
            } catch (IllegalArgumentException bad) {
                throw InputError.of(trace, "replay hints in the schema metadata (" + PREFIX + "*): " + bad.getMessage());
            }
        }
        return hints;
    }

    /** The effective settings: the hints, then every explicit {@code --set} over them. */
    static Map<String, String> effective(Map<String, String> hints, Map<String, String> set) {
        Map<String, String> m = new TreeMap<>(hints);
        m.putAll(set);
        return m;
    }
}
