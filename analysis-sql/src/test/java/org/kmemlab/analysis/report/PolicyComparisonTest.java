package org.kmemlab.analysis.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The report's policy table carries the replays' set-up warnings and watchdog counts, not only their metrics. */
class PolicyComparisonTest {
    @Test
    void warningsOnceAndWatchdogCountsWithTheirRatio() {
        Map<String, Map<String, Object>> sums = new LinkedHashMap<>();
        String w = "the recording's slabs (119 MiB, from its snapshot) fill 95% of the model's 126 MiB";
        sums.put("baseline", Map.of("requests", 1000, "failures", 10, "warnings", List.of(w),
                "watchdog_counts", Map.of("allocation stall", 40), "trace_pages_reclaimed", 7));
        sums.put("xfs-kvmalloc-failfast", Map.of("requests", 1000, "failures", 5, "warnings", List.of(w),
                "watchdog_counts", Map.of("allocation stall", 10, "hung task", 2)));
        Html out = new Html();
        new ReplaySections.Comparison(sums).render(null, out);
        String html = out.toString();
        assertEquals(1, html.split("Warning: ", -1).length - 1, "the same warning from two policies is shown once");
        assertTrue(html.contains(w.replace("'", "&#39;")) || html.contains(w), html);
        // 40 → 10 stalls: 0.25 of baseline; a kind baseline never reported has no ratio
        assertTrue(html.contains("<td>watchdog: allocation stall</td><td class=\"num\">40</td><td class=\"num\">1.00</td>"
                + "<td class=\"num\">10</td><td class=\"num\">0.25</td>"), html);
        assertTrue(html.contains("<td>watchdog: hung task</td><td class=\"num\">0</td><td class=\"num\">1.00</td>"
                + "<td class=\"num\">2</td><td class=\"num\">—</td>"), html);
        assertTrue(html.contains("<td>trace&#39;s page cache reclaimed (pages)</td><td class=\"num\">7</td>")
                || html.contains("<td>trace's page cache reclaimed (pages)</td><td class=\"num\">7</td>"), html);
    }
}
