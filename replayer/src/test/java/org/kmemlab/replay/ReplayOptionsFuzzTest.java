package org.kmemlab.replay;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes {@code kmemlab replay --set}: a policy name on the first line, then {@code KEY=VALUE} lines as the
 * CLI passes them. Building a Replayer parses every key (replay.* engine knobs, cost.* overrides, policy
 * knobs) and reads only the trace's schema header (its replay hints), so the trace is an empty one written
 * once; a bad key or value must be an IllegalArgumentException (the CLI's one-line error), nothing else. Seeds: the knobs of the seed scenarios' replay hints and of the presets.
 */
class ReplayOptionsFuzzTest {
    private static final Path TRACE = emptyTrace();

    private static Path emptyTrace() {
        try {
            Path p = java.nio.file.Files.createTempFile("kmemlab-fuzz-", ".arrow");
            p.toFile().deleteOnExit();
            new org.kmemlab.trace.TraceWriter(p, Map.of(org.kmemlab.trace.TraceSchema.META_SOURCE_FORMAT, "generated"),
                    org.kmemlab.trace.TraceWriter.Compression.NONE).close();
            return p;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest
    void replaySet(byte[] data) {
        String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
        Map<String, String> set = new LinkedHashMap<>();
        for (int i = 1; i < lines.length && i < 64; i++) {
            int eq = lines[i].indexOf('=');
            if (eq >= 0) set.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
        }
        try {
            new Replayer(TRACE, lines.length > 0 ? lines[0] : "", set);
        } catch (IllegalArgumentException expected) {
            // unknown knob or value, named in the message
        }
    }
}
