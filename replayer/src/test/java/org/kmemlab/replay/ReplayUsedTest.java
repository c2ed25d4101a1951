package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replay.used}: the memory in use when the replay starts (replayer/README.md, knobs). */
class ReplayUsedTest {
    @TempDir Path tmp;

    /** free + pcp pages at the first timeline sample: what is not in use. */
    private double notInUseAtStart(Path trace, String used) throws IOException {
        Path out = tmp.resolve("out-" + used);
        Map<String, String> set = new HashMap<>(Map.of("replay.memoryBytes", Long.toString(64L << 20)));
        if (used != null) set.put("replay.used", used);
        new Replayer(trace, "baseline", set).run(out);
        double free = -1, pcp = -1;
        for (Map<String, Object> r : ReplayerTest.rows(out.resolve("timeline.arrow"))) {
            if ((Long) r.get("t_ns") != 0) break;
            if ("free_pages".equals(r.get("metric"))) free = (Double) r.get("value");
            if ("pcp_pages".equals(r.get("metric"))) pcp = (Double) r.get("value");
        }
        assertTrue(free >= 0 && pcp >= 0, "timeline has free_pages and pcp_pages at t=0");
        return free + pcp;
    }

    @Test
    void usedFillsMemoryBeforeTheTraceStarts() throws IOException {
        Path trace = tmp.resolve("t.arrow");
        Traces t = new Traces(trace);
        t.kmalloc(1_000, 0, 1, 0x1000, 128, "site_a").kfree(2_000, 0, 1, 0x1000);
        t.close();
        double none = notInUseAtStart(trace, null);
        // 64 MiB has 16067 managed pages (FillUsedTest); half of them, rounded down, is page cache at the start.
        assertEquals(16067 / 2, none - notInUseAtStart(trace, "0.5"), 0.0);
        assertEquals(2048, none - notInUseAtStart(trace, Long.toString(8L << 20)), 0.0, "8 MiB as bytes");
        assertEquals(0, none - notInUseAtStart(trace, "0"), 0.0);
    }

    @Test
    void aNegativeOrNonNumericUsedIsABadKnob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplayOptions.from(new HashMap<>(Map.of("replay.used", "-0.25"))));
        assertTrue(e.getMessage().contains("replay.used") && e.getMessage().contains("-0.25"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReplayOptions.from(new HashMap<>(Map.of("replay.used", "half"))));
        assertEquals(0.25, ReplayOptions.from(new HashMap<>(Map.of("replay.used", "0.25"))).used());
        assertEquals(-1, ReplayOptions.from(new HashMap<>(Map.of())).used(), "unset: memory as built");
    }
}
