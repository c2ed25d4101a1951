package org.kmemlab.replay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/**
 * A trace's replay hints ({@code kmemlab.hint.<key>} in its schema metadata, trace-format/SCHEMA.md "Replay
 * hints") as defaults under the user's {@code --set}: a generated scenario replays as its seed describes
 * with no flags. A hint never overrides a knob the chosen policy preset sets itself (a preset is the
 * policy being compared), and a hint this replayer does not know is skipped, so that traces written for a
 * newer replayer still replay.
 */
public final class ReplayHints {
    private ReplayHints() {}

    public static final String PREFIX = "kmemlab.hint.";

    /** {@code set} on top of the trace's applicable hints. */
    public static Map<String, String> withHints(Path trace, String policy, Map<String, String> set) {
        TraceInfo info;
        // the hints are schema metadata: only a reader opened on the stream sees them (readInfo reads the trailer)
        try (TraceReader r = new TraceReader(trace)) {
            info = r.info();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return withHints(info.header, policy, set);
    }

    static Map<String, String> withHints(Map<String, String> header, String policy, Map<String, String> set) {
        Map<String, String> m = new LinkedHashMap<>();
        Map<String, String> preset = PolicyRegistry.byName(policy).knobs();
        for (Map.Entry<String, String> e : header.entrySet()) {
            if (!e.getKey().startsWith(PREFIX)) continue;
            String k = e.getKey().substring(PREFIX.length());
            if (set.containsKey(k) || preset.containsKey(k) || !applies(k, e.getValue(), policy)) continue;
            m.put(k, e.getValue());
        }
        m.putAll(set);
        return m;
    }

    private static boolean applies(String key, String value, String policy) {
        if (key.startsWith("cost.")) return true;
        try {
            Map<String, String> one = new LinkedHashMap<>(Map.of(key, value));
            if (key.startsWith("replay.")) ReplayOptions.from(one);
            else PolicyRegistry.configure(policy, one);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
