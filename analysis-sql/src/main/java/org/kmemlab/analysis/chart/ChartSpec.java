package org.kmemlab.analysis.chart;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A chart defined by a SQL query that users can copy and change. The query returns three columns:
 * x (a number for LINE, a label for BAR and STACKED_BAR, in the order rows arrive), series, and y. Its
 * {@code :name} parameters are bound by the caller (see {@link org.kmemlab.analysis.NamedParams}).
 */
public record ChartSpec(String id, String title, Kind kind, String xLabel, String yLabel, Unit yUnit, String sql) {
    public enum Kind { LINE, BAR, STACKED_BAR }
    /** BYTES values are scaled to B/KiB/MiB/GiB by the largest one and the unit goes into the axis label. */
    public enum Unit { BYTES, COUNT }

    public ChartSpec withSql(String s) { return new ChartSpec(id, title, kind, xLabel, yLabel, yUnit, s); }

    static String resource(String name) {
        try (InputStream in = ChartSpec.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing chart query " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Live slab bytes over time: the top :top_n caches by peak, and the total. */
    public static ChartSpec liveBytes() {
        return new ChartSpec("live-bytes", "Live slab memory over time (top caches and total)", Kind.LINE,
                "Time since trace start (s)", "Live bytes", Unit.BYTES, resource("live-bytes.sql"));
    }

    /** Allocation events per second, one line per event type. */
    public static ChartSpec allocRate() {
        return new ChartSpec("alloc-rate", "Allocations per second by event", Kind.LINE,
                "Time since trace start (s)", "Allocations per second", Unit.COUNT, resource("alloc-rate.sql"));
    }

    /** Object lifetimes in decades of nanoseconds, for the :top_n caches with most freed objects. */
    public static ChartSpec lifetimeHistogram() {
        return new ChartSpec("lifetimes", "Object lifetime histogram per cache (log buckets)", Kind.BAR,
                "Lifetime (allocation to free)", "Objects", Unit.COUNT, resource("lifetime-histogram.sql"));
    }

    /** Page allocations by order, stacked by migratetype. */
    public static ChartSpec pagesByOrder() {
        return new ChartSpec("pages", "Page allocations by order and migratetype", Kind.STACKED_BAR,
                "Allocation order (2^order pages)", "Page allocations", Unit.COUNT, resource("pages-by-order.sql"));
    }

    /** The kernel's fragmentation index over the replay's virtual time, orders 2..9; drawn once per policy (:policy). */
    public static ChartSpec fragmentationIndex() {
        return new ChartSpec("replay-fragmentation-index", "Fragmentation index over time (model, __fragmentation_index)", Kind.LINE,
                "Virtual time since trace start (s)", "Fragmentation index (-1 = a block is free)", Unit.COUNT,
                resource("fragmentation-index.sql"));
    }

    /** Mempool reserve level per pool and policy over the replay's virtual time. */
    public static ChartSpec mempoolReserve() {
        return new ChartSpec("replay-mempool-reserve", "Mempool reserve level over time (model)", Kind.LINE,
                "Virtual time since trace start (s)", "Elements in the reserve (curr_nr)", Unit.COUNT, resource("mempool-reserve.sql"));
    }

    /** SPL emergency objects per cache and policy over the replay's virtual time. */
    public static ChartSpec splEmergency() {
        return new ChartSpec("replay-spl-emergency", "SPL emergency objects over time (model)", Kind.LINE,
                "Virtual time since trace start (s)", "Emergency objects outstanding", Unit.COUNT, resource("spl-emergency.sql"));
    }

    /** The charts over a replay's timeline; a query with {@code :policy} is drawn once per policy. */
    public static java.util.List<ChartSpec> replay() {
        return java.util.List.of(fragmentationIndex(), mempoolReserve(), splEmergency());
    }

    public static java.util.List<ChartSpec> standard() {
        return java.util.List.of(liveBytes(), allocRate(), lifetimeHistogram(), pagesByOrder());
    }
}
