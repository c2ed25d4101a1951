package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The one-screen comparison says when every policy replayed the trace alike, and only then. */
class ReplayCommandTest {
    private static Map<String, Object> row(long delayNs) {
        Map<String, Object> s = new HashMap<>();
        s.put("requests", 100L);
        s.put("failures", 0L);
        s.put("modeled_ns", 5_000L);
        s.put("delay_ns", delayNs);
        return s;
    }

    private static String printed(Map<String, Map<String, Object>> res) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ReplayCommand.print(new PrintStream(b, true, StandardCharsets.UTF_8), res, Path.of("out"));
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void identicalRowsGetTheExplanation() {
        Map<String, Map<String, Object>> res = new LinkedHashMap<>();
        res.put("baseline", row(7));
        res.put("spl-emergency", row(7));
        assertTrue(printed(res).contains("Every policy gives the same numbers on this trace"));
    }

    @Test
    void oneDifferentNumberOrADeadlockOrASinglePolicyDoNot() {
        Map<String, Map<String, Object>> differ = new LinkedHashMap<>();
        differ.put("baseline", row(7));
        differ.put("xfs-kvmalloc-failfast", row(8));
        assertFalse(printed(differ).contains("Every policy"));

        Map<String, Map<String, Object>> deadlock = new LinkedHashMap<>();
        deadlock.put("baseline", row(7));
        Map<String, Object> d = row(7);
        d.put("deadlock", Map.of("tasks", 2));
        deadlock.put("btrfs-extent-mempool", d);
        assertFalse(printed(deadlock).contains("Every policy"));

        assertFalse(printed(Map.of("baseline", row(7))).contains("Every policy"));
    }
}
