package org.kmemlab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.hot.Folded;

/** A profile for hot and flame: a folded-stack file (*.folded, *.folded.txt) or a trace with call chains. */
final class HotInputs {
    private HotInputs() {}

    static boolean isFolded(Path p) {
        String f = p.getFileName().toString();
        return f.endsWith(".folded") || f.endsWith(".folded.txt") || f.endsWith(".collapsed");
    }

    static Map<String, Long> load(Path p, Folded.Weight weight, String event) throws Exception {
        if (Files.isDirectory(p)) throw new UserError(p + ": replay profiles are not available yet; give a trace recorded with perf record -g or a .folded file");
        if (!Files.exists(p)) throw new UserError(p + ": does not exist");
        if (isFolded(p)) return Folded.parse(p);
        try (TraceDb db = TraceDb.open(List.of(p))) {
            Map<String, Long> m = Folded.fromTrace(db, List.of(p), weight, event);
            if (m.isEmpty()) throw new UserError(p + ": no call chains" + (event == null ? "" : " for " + event) + " (record with perf record -g)");
            return m;
        }
    }

    static Folded.Weight weight(String w) {
        return switch (w) {
            case "count", "events" -> Folded.Weight.COUNT;
            case "bytes" -> Folded.Weight.BYTES;
            default -> throw new UserError("--weight must be count or bytes, not '" + w + "'");
        };
    }
}
