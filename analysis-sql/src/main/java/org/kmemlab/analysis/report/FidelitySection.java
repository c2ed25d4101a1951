package org.kmemlab.analysis.report;

import java.util.List;
import java.util.Locale;

/**
 * The report's fidelity section: how closely the baseline model reproduced what the kernel derived from
 * the same requests, the lines {@code kmemlab fidelity} prints (metric, the trace's value, the model's, the
 * ratio model/trace). The numbers are computed by the replayer's {@code Fidelity} and handed in by the CLI,
 * since analysis-sql does not depend on the replayer.
 */
public final class FidelitySection implements ReportSection {
    /** One line of {@code kmemlab fidelity}. */
    public record Line(String metric, double trace, double model, double ratio) {}

    private final String trace;
    private final List<Line> lines;
    private final List<String> targets;

    public FidelitySection(String trace, List<Line> lines) {
        this(trace, lines, List.of());
    }

    /** With the verdicts against the replay's targets, as {@code kmemlab fidelity} prints them under its table. */
    public FidelitySection(String trace, List<Line> lines, List<String> targets) {
        this.trace = trace;
        this.lines = List.copyOf(lines);
        this.targets = List.copyOf(targets);
    }

    public List<Line> lines() { return lines; }

    public String id() { return "fidelity"; }
    public String title() { return "Replay fidelity"; }

    public void render(ReportContext ctx, Html out) {
        out.p("The baseline replay of " + trace + " beside the trace itself: the events the kernel derived from the requests"
                + " (zone-locked allocations, pcp refills and drains, page allocations by order/migratetype, slab pages per cache),"
                + " bytes_alloc of every slab allocation and the objects still live at the end per cache, with the ratio"
                + " model / trace (1 = the model reproduces the kernel; kmemlab fidelity prints the same lines).");
        if (!targets.isEmpty()) {
            out.raw("<ul>\n");
            for (String t : targets) out.raw("<li>").text(t).raw("</li>\n");
            out.raw("</ul>\n");
        }
        out.raw("<table class=\"sortable\"><thead><tr><th>metric</th><th>trace</th><th>model</th><th>model / trace</th></tr></thead><tbody>\n");
        for (Line l : lines) {
            out.raw("<tr><td>").text(l.metric()).raw("</td>");
            cell(out, l.trace(), String.format(Locale.ROOT, "%,.0f", l.trace()));
            cell(out, l.model(), String.format(Locale.ROOT, "%,.0f", l.model()));
            if (Double.isInfinite(l.ratio())) {
                out.raw("<td class=\"n\" data-v=\"1e300\">∞</td>");
            } else {
                String cls = Math.abs(l.ratio() - 1) <= 0.1 ? "n" : "n off";
                out.raw("<td class=\"" + cls + "\" data-v=\"" + l.ratio() + "\">").text(String.format(Locale.ROOT, "%.3f", l.ratio())).raw("</td>");
            }
            out.raw("</tr>\n");
        }
        if (lines.isEmpty()) out.raw("<tr><td colspan=\"4\" class=\"empty\">no rows</td></tr>");
        out.raw("</tbody></table>\n");
    }

    private static void cell(Html out, double v, String text) {
        out.raw("<td class=\"n\" data-v=\"" + v + "\">").text(text).raw("</td>");
    }
}
