package org.kmemlab.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The replay's watchdog reports (allocation stalls, hung tasks, lost forward progress), bounded the way the
 * kernel bounds its own: khungtaskd stops printing after {@code hung_task_warnings} (10) reports, and
 * {@code warn_alloc()} goes through a ratelimit. A replay in which every request stalls keeps its first
 * {@link #KEPT} reports and a count per kind, not a line per request (one such summary.json was 31 MB).
 */
final class Watchdog {
    static final int KEPT = 100;

    final List<String> reports = new ArrayList<>();
    final Map<String, Long> counts = new TreeMap<>();

    /** One report, kept as {@code "<kind>: <detail>"}; the detail is formatted only while reports are still kept. */
    void report(String kind, String detailFormat, Object... args) {
        counts.merge(kind, 1L, Long::sum);
        if (reports.size() < KEPT) reports.add(kind + ": " + String.format(detailFormat, args));
    }
}
