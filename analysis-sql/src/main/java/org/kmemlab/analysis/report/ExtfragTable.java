package org.kmemlab.analysis.report;

import java.sql.ResultSet;

/**
 * The fragmentation index of the recording machine's zones, from the trace's buddyinfo snapshot (view
 * {@code buddyinfo_extfrag}): the table /sys/kernel/debug/extfrag/extfrag_index prints, one row per zone
 * and a column per order.
 */
final class ExtfragTable implements ReportSection {
    static final String SQL;

    static {
        StringBuilder b = new StringBuilder("SELECT trace, node, zone");
        for (int o = 0; o <= 10; o++) {
            b.append(", round(max(extfrag_index) FILTER (WHERE \"order\" = ").append(o).append("), 3) AS \"order ").append(o).append('"');
        }
        SQL = b.append("\nFROM buddyinfo_extfrag GROUP BY trace, node, zone ORDER BY trace, node, list_position(['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'], zone), zone").toString();
    }

    public String id() { return "extfrag"; }
    public String title() { return "Fragmentation index at recording (buddyinfo snapshot)"; }

    public void render(ReportContext ctx, Html out) throws Exception {
        try (ResultSet rs = ctx.db().query("SELECT count(*) FROM buddyinfo")) {
            rs.next();
            if (rs.getLong(1) == 0) {
                out.raw("<p class=\"placeholder\">").text("The trace has no buddyinfo snapshot (kmemlab import --snapshot DIR records one).")
                        .raw("</p>\n");
                return;
            }
        }
        out.p("The kernel's __fragmentation_index() of each zone's free lists when the trace was recorded, per requested order:"
                + " -1 means a free block of that order exists; towards 0 an allocation would fail for lack of memory, towards 1"
                + " for fragmentation.");
        try (ResultSet rs = ctx.db().query(SQL)) {
            out.table(rs);
        }
        out.raw("<details><summary>SQL</summary><pre>").text(SQL).raw("</pre></details>\n");
    }
}
