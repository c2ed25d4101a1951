package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.kmemlab.analysis.report.Html;
import org.kmemlab.analysis.report.HtmlReport;

/**
 * A run notebook as one self-contained HTML page in the report's style (HtmlReport.page): prose rendered
 * from Markdown, each cell's source with its outputs beneath, charts as inline SVG. Raw HTML in the prose
 * is shown as text, so nothing in a notebook can make the page fetch from elsewhere.
 */
public final class HtmlNotebook {
    private HtmlNotebook() {}

    static final String CSS = """
            .md{margin:14px 0;line-height:1.5;font-size:14.5px}.md code{background:#f0f3f7;padding:0 3px;border-radius:3px}
            .md table{font-size:13px}.md pre code{background:none}
            .cell{background:#fff;border:1px solid #e3e3e3;border-left:4px solid #4E79A7;border-radius:4px;margin:12px 0;padding:4px 12px 8px}
            .cell.failed{border-left-color:#E15759}
            .cell .prompt{font-size:11.5px;color:#888;margin:4px 0}
            .cell pre.src{background:#f7f9fc;border:1px solid #eef1f5;margin:4px 0 8px}
            .cell pre.stream{background:none;padding:2px 0;margin:4px 0}.cell pre.stderr{color:#8a6d3b}
            .cell pre.error{color:#a94442;background:#f2dede;margin:4px 0}
            .rows{font-size:11.5px;color:#888;margin:2px 0 6px}
            .verdict-head{font-weight:600}.verdict-head.ok,tr.ok td.mark{color:#2e7d32}.verdict-head.bad,tr.bad td.mark{color:#c62828}
            tr.bad td{background:#fdf0f0}td.mark{font-weight:700;text-align:center}
            """;

    public static void write(NotebookRun run, Path out) throws IOException {
        Files.writeString(out, html(run), StandardCharsets.UTF_8);
    }

    public static String html(NotebookRun run) {
        Notebook nb = run.notebook();
        Parser parser = Parser.builder().extensions(List.of(TablesExtension.create())).build();
        HtmlRenderer md = HtmlRenderer.builder().extensions(List.of(TablesExtension.create())).escapeHtml(true).build();
        StringBuilder body = new StringBuilder();
        for (Notebook.Block b : nb.blocks()) {
            if (b instanceof Notebook.Prose p) {
                body.append("<div class=\"md\">\n").append(md.render(parser.parse(p.markdown()))).append("</div>\n");
            } else if (b instanceof Notebook.Cell c) {
                CellRun r = run.runOf(c);
                cell(body, c, r);
            }
        }
        return HtmlReport.page(nb.title(), nav(run), body.toString(), CSS);
    }

    private static void cell(StringBuilder sb, Notebook.Cell c, CellRun r) {
        int n = r == null ? 0 : r.executionCount();
        boolean failed = r != null && (r.failed() || r.verdictFails());
        sb.append("<div class=\"cell").append(failed ? " failed" : "").append("\" id=\"cell-").append(n).append("\">\n");
        sb.append("<div class=\"prompt\">[").append(n).append("] ").append(c.kind().fence()).append(" · line ").append(c.line()).append("</div>\n");
        sb.append("<pre class=\"src\">").append(Html.esc(c.body().stripTrailing())).append("</pre>\n");
        if (r != null) {
            for (Output o : r.outputs()) {
                if (o instanceof Output.Stream s) {
                    sb.append("<pre class=\"stream ").append(s.name()).append("\">").append(Html.esc(s.text().stripTrailing())).append("</pre>\n");
                } else if (o instanceof Output.Rich h) {
                    sb.append(h.html());
                } else if (o instanceof Output.Image i) {
                    sb.append("<figure>").append(i.svg()).append("<figcaption class=\"rows\">").append(Html.esc(i.alt())).append("</figcaption></figure>\n");
                } else if (o instanceof Output.Error e) {
                    sb.append("<pre class=\"error\">").append(Html.esc(e.ename() + ": " + String.join("\n", e.traceback()))).append("</pre>\n");
                }
            }
        }
        sb.append("</div>\n");
    }

    /** The header line: how many cells ran, which failed, and the verdict, with links to the cells. */
    private static String nav(NotebookRun run) {
        StringBuilder sb = new StringBuilder();
        List<CellRun> failed = run.failedCells();
        sb.append("<a>").append(run.runs().size()).append(" cells").append(failed.isEmpty() ? ", all ran" : "").append("</a> ");
        for (CellRun r : failed) {
            sb.append("<a href=\"#cell-").append(r.executionCount()).append("\">✗ cell ").append(r.executionCount())
                    .append(" (line ").append(r.cell().line()).append(") failed</a> ");
        }
        for (CellRun r : run.runs()) {
            if (r.claims() == null) continue;
            long held = r.claims().stream().filter(CellRun.Claim::held).count();
            sb.append("<a href=\"#cell-").append(r.executionCount()).append("\">")
                    .append(held == r.claims().size() ? "✓ verdict: all " + held + " claims hold" : "✗ verdict: " + (r.claims().size() - held) + " of " + r.claims().size() + " claims do not hold")
                    .append("</a> ");
        }
        return sb.toString();
    }
}
