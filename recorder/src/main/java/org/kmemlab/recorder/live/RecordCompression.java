package org.kmemlab.recorder.live;

import java.util.List;

import org.kmemlab.trace.TraceWriter;

/**
 * How {@code kmemlab record} compresses its batches, by name: {@code zstd} (level 1, the importers'
 * choice), {@code fast} (zstd's fast mode, level -5: about twice the speed of level 1 for a file about
 * 1.8 times larger), {@code none} (no compression: the CPU of zstd is gone, the file is as large as a
 * perf.data of the same events). Live recording competes for CPU with the workload it traces, so its
 * default leans to speed; readers decompress all three alike.
 */
public record RecordCompression(String name, TraceWriter.Compression codec, int zstdLevel) {
    public static final RecordCompression ZSTD = new RecordCompression("zstd", TraceWriter.Compression.ZSTD, 1);
    public static final RecordCompression FAST = new RecordCompression("fast", TraceWriter.Compression.ZSTD, -5);
    public static final RecordCompression NONE = new RecordCompression("none", TraceWriter.Compression.NONE, 0);
    public static final List<RecordCompression> ALL = List.of(ZSTD, FAST, NONE);
    public static final RecordCompression DEFAULT = FAST;

    /** The policy of this name, or null. */
    public static RecordCompression byName(String name) {
        for (RecordCompression c : ALL) if (c.name.equalsIgnoreCase(name)) return c;
        return null;
    }
}
