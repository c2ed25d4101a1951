package org.kmemlab.analysis.report;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.jfree.chart.JFreeChart;
import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.analysis.chart.Charts;

/**
 * The report's charts over a replay's {@code timeline} ({@link ChartSpec#replay()}): the fragmentation index,
 * mempool reserves and SPL emergency objects. Each is shown only when the timeline holds the metrics it
 * draws; a query with a {@code :policy} parameter is drawn once per policy (baseline first), the others
 * once with a series per pool or cache and policy.
 */
public final class TimelineCharts {
    private TimelineCharts() {}

    /** The metric prefix each replay chart needs in the timeline. */
    static String metricPrefix(ChartSpec spec) {
        return switch (spec.id()) {
            case "replay-fragmentation-index" -> "free_blocks_order_";
            case "replay-mempool-reserve" -> "mempool_reserve:";
            case "replay-spl-emergency" -> "spl_emergency:";
            default -> "";
        };
    }

    /** The replay charts whose metrics the session's {@code timeline} holds. */
    public static List<ReportSection> present(TraceDb db) throws SQLException {
        List<ReportSection> out = new ArrayList<>();
        for (ChartSpec s : ChartSpec.replay()) {
            try (var ps = db.prepare("SELECT EXISTS (SELECT 1 FROM timeline WHERE starts_with(metric, ?))", List.of(metricPrefix(s)));
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) out.add(section(s));
            }
        }
        return out;
    }

    /** A replay chart as a report section; also how {@code --chart-sql} replaces one with a changed query. */
    public static ReportSection section(ChartSpec spec) { return new Section(spec); }

    private static final Object POLICY_MARK = new Object();

    /** Whether the query binds {@code :policy} (comments and strings aside, as NamedParams reads it). */
    static boolean perPolicy(String sql) {
        try {
            return NamedParams.bind(sql, Map.of("policy", POLICY_MARK)).params().contains(POLICY_MARK);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    record Section(ChartSpec spec) implements ReportSection {
        public String id() { return "chart-" + spec.id(); }
        public String title() { return spec.title(); }

        public void render(ReportContext ctx, Html out) throws Exception {
            boolean perPolicy = perPolicy(spec.sql());
            List<String> policies = new ArrayList<>();
            if (perPolicy) {
                try (ResultSet rs = ctx.db().query("SELECT DISTINCT policy FROM timeline ORDER BY policy <> 'baseline', policy")) {
                    while (rs.next()) policies.add(rs.getString(1));
                }
            } else {
                policies.add(null);
            }
            int i = 0;
            for (String p : policies) {
                ChartSpec s = p == null ? spec : new ChartSpec(spec.id(), spec.title() + ": " + p, spec.kind(), spec.xLabel(),
                        spec.yLabel(), spec.yUnit(), spec.sql());
                JFreeChart c = Charts.build(s, ctx.db(), p == null ? Map.of() : Map.of("policy", p));
                // the index lives in [-1, 1]: a fixed axis keeps "-1 = a free block exists" readable beside 0 and 1
                if (spec.id().equals("replay-fragmentation-index") && c.getPlot() instanceof org.jfree.chart.plot.XYPlot xy) {
                    xy.getRangeAxis().setRange(-1.05, 1.05);
                }
                out.raw("<figure class=\"chart\">").raw(Charts.svg(c, spec.id() + "-" + (i++) + "-")).raw("</figure>\n");
            }
            out.raw("<details><summary>SQL").text(perPolicy ? " (parameter: policy, one chart each)" : "")
                    .raw("</summary><pre>").text(spec.sql()).raw("</pre></details>\n");
        }
    }
}
