package org.kmemlab.analysis.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.kmemlab.analysis.KmemStat;
import org.kmemlab.analysis.TraceDb;

/**
 * What every section may read: the DuckDB session with the traces and kmemlab's views, the traces'
 * perf kmem statistics, and the replay output folder (null until the replayer writes one). Replay
 * results are meant to be registered in the same session as views ({@code requests}, {@code profile},
 * {@code timeline}, {@code policy_diff}) so that sections and users query them alike.
 */
public record ReportContext(TraceDb db, List<Path> traces, Map<Path, KmemStat> stats, Path replayDir) {}
