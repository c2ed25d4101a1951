package org.kmemlab.trace;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a trace file says about itself: the metadata written at its start (schema version, source,
 * kernel, CPUs), and the trailer written at its end (event counts, lost events, unparsed lines, time span,
 * call chains, machine snapshot files). A file cut short has no trailer; {@link #complete()} says so.
 */
public final class TraceInfo {
    /** Trailer section names. */
    public static final String SEC_META = "meta", SEC_STACK = "stack", SEC_SNAPSHOT = "snapshot",
            SEC_LOST = "lost_by_cpu", SEC_UNKNOWN = "unknown_events", SEC_MALFORMED = "malformed_sample",
            SEC_ANOMALIES = "anomalies";

    public final Map<String, String> header = new LinkedHashMap<>();
    /** Final counters: events, unparsed_lines, lost_events, first_ts_ns, last_ts_ns, batches, unknown_events. */
    public final Map<String, String> meta = new LinkedHashMap<>();
    public final Map<Integer, List<String>> stacks = new TreeMap<>();
    public final Map<String, String> snapshot = new TreeMap<>();
    public final Map<Integer, Long> lostByCpu = new TreeMap<>();
    public final Map<String, Long> unknownEvents = new TreeMap<>();
    /** Bad trace semantics counted at write time (see {@link Anomalies}); empty for traces written before. */
    public final Map<String, Long> anomalies = new LinkedHashMap<>();
    public final List<String> malformedSamples = new java.util.ArrayList<>();
    boolean complete;
    /** Rows and batches that were readable (set by a full read or scan). */
    long recoveredRows = -1;
    long recoveredBatches = -1;
    String truncationReason;

    public boolean complete() { return complete; }
    public long recoveredRows() { return recoveredRows; }
    public long recoveredBatches() { return recoveredBatches; }
    public String truncationReason() { return truncationReason; }

    public String schemaVersion() { return header.get(TraceSchema.META_VERSION); }
    public String sourceFormat() { return header.get(TraceSchema.META_SOURCE_FORMAT); }
    public String kernelRelease() { return header.get(TraceSchema.META_KERNEL_RELEASE); }

    public int nrCpus() {
        String v = header.get(TraceSchema.META_NR_CPUS);
        try {
            return v == null ? -1 : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return -1; // not written by kmemlab: unknown, as when absent
        }
    }

    public long metaLong(String key, long dflt) {
        String v = meta.get(key);
        return v == null ? dflt : Long.parseLong(v);
    }
}
