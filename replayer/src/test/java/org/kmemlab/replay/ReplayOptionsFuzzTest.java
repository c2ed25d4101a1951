package org.kmemlab.replay;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes {@code kmemlab replay --set}: a policy name on the first line, then {@code KEY=VALUE} lines as the
 * CLI passes them. Building a Replayer parses every key (replay.* engine knobs, cost.* overrides, policy
 * knobs) without reading the trace; a bad key or value must be an IllegalArgumentException (the CLI's
 * one-line error), nothing else. Seeds: the knobs of the seed scenarios' replay hints and of the presets.
 */
class ReplayOptionsFuzzTest {
    private static final Path NOT_READ = Path.of("not-read.arrow");

    @FuzzTest
    void replaySet(byte[] data) {
        String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
        Map<String, String> set = new LinkedHashMap<>();
        for (int i = 1; i < lines.length && i < 64; i++) {
            int eq = lines[i].indexOf('=');
            if (eq >= 0) set.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
        }
        try {
            new Replayer(NOT_READ, lines.length > 0 ? lines[0] : "", set);
        } catch (IllegalArgumentException expected) {
            // unknown knob or value, named in the message
        }
    }
}
