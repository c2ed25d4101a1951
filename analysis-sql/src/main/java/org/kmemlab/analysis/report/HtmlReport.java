package org.kmemlab.analysis.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * {@code kmemlab report}: one self-contained HTML file (inline CSS, inline SVG charts, a few lines of
 * inline script to sort tables; nothing fetched from the network), in the spirit of heaptrack's and
 * perf's summaries. Sections come from {@link Sections#standard()} and from every
 * {@link ReportSectionProvider} on the class path; a provided section replaces the placeholder with its id.
 * A section that fails is reported in place, so one bad query does not lose the whole report.
 */
public final class HtmlReport {
    private HtmlReport() {}

    public static List<ReportSection> sections(ReportContext ctx, List<ReportSection> extra) throws Exception {
        Map<String, ReportSection> byId = new LinkedHashMap<>();
        for (ReportSection s : Sections.standard()) byId.put(s.id(), s);
        List<ReportSection> provided = new ArrayList<>(extra);
        for (ReportSectionProvider p : ServiceLoader.load(ReportSectionProvider.class)) provided.addAll(p.sections(ctx));
        for (ReportSection s : provided) byId.put(s.id(), s);
        return new ArrayList<>(byId.values());
    }

    public static void write(ReportContext ctx, List<ReportSection> extra, String title, Path out) throws Exception {
        // -Dkmemlab.report.timing=true prints where the time goes, for the 10M-event benchmark
        boolean timing = Boolean.getBoolean("kmemlab.report.timing");
        long t0 = System.nanoTime();
        ctx.db().materializeLifetimes();
        if (timing) System.err.printf("report: lifetimes %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        List<ReportSection> secs = sections(ctx, extra);
        Html body = new Html();
        for (ReportSection s : secs) {
            body.raw("<section id=\"").text(s.id()).raw("\"><h2>").text(s.title()).raw("</h2>\n");
            long ts = System.nanoTime();
            try {
                s.render(ctx, body);
                if (timing) System.err.printf("report: %s %d ms%n", s.id(), (System.nanoTime() - ts) / 1_000_000);
            } catch (Exception e) {
                body.raw("<p class=\"error\">").text("This section failed: " + e.getMessage()).raw("</p>\n");
            }
            body.raw("</section>\n");
        }
        Html nav = new Html();
        for (ReportSection s : secs) nav.raw("<a href=\"#").text(s.id()).raw("\">").text(s.title()).raw("</a> ");
        Files.writeString(out, page(title, nav.toString(), body.toString(), ""), StandardCharsets.UTF_8);
    }

    /**
     * The report's page around a body: its CSS (plus {@code extraCss}), header with {@code navHtml}, and the
     * table-sorting script. Other self-contained pages (notebooks) use it to look like the report.
     */
    public static String page(String title, String navHtml, String bodyHtml, String extraCss) {
        Html page = new Html();
        page.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>").text(title).raw("</title>\n");
        page.raw("<style>").raw(CSS).raw(extraCss).raw("</style></head>\n<body>\n<header><h1>").text(title).raw("</h1>\n<nav>");
        page.raw(navHtml).raw("</nav></header>\n<main>\n").raw(bodyHtml).raw("</main>\n<script>").raw(JS).raw("</script>\n</body></html>\n");
        return page.toString();
    }

    static final String CSS = """
            body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
            header{background:#1f2d3d;color:#fff;padding:12px 24px}header h1{margin:0 0 6px;font-size:20px}
            nav a{color:#cfe0f5;margin-right:14px;font-size:13px;text-decoration:none;white-space:nowrap}
            main{padding:8px 24px 40px;max-width:1300px}
            section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:4px 18px 14px;margin:16px 0}
            h2{font-size:17px;color:#1f2d3d;border-bottom:2px solid #4E79A7;padding-bottom:4px}
            table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
            th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
            th{background:#f0f3f7;cursor:pointer;user-select:none;position:sticky;top:0}
            th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            tr:hover td{background:#f6f9fc}.null{color:#aaa}.empty{color:#888;font-style:italic}
            .kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:4px 18px;margin:8px 0}
            .kv .k{color:#666;margin-right:8px}.kv .v{font-weight:600;font-variant-numeric:tabular-nums}
            .placeholder{color:#8a6d3b;background:#fcf8e3;border:1px dashed #e0c97f;padding:8px 12px;border-radius:4px}
            .error{color:#a94442;background:#f2dede;padding:8px 12px}
            figure{margin:8px 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
            pre{font-size:12px;background:#f7f7f7;padding:8px;overflow-x:auto}
            details summary{cursor:pointer;color:#4E79A7;font-size:13px}
            """;

    /**
     * Click a header to sort by it; numbers by their data-v value, text alphabetically. The last line marks
     * the page as scripted without error, which the browser test checks.
     */
    static final String JS = """
            document.querySelectorAll('table.sortable').forEach(function(t){
              t.querySelectorAll('th').forEach(function(th,i){
                th.addEventListener('click',function(){
                  var asc=!th.classList.contains('asc');
                  t.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
                  th.classList.add(asc?'asc':'desc');
                  var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
                  rows.sort(function(a,b){
                    var x=a.cells[i],y=b.cells[i];if(!x||!y)return 0;
                    var xv=x.getAttribute('data-v'),yv=y.getAttribute('data-v');
                    var c=(xv!==null&&yv!==null)?(parseFloat(xv)-parseFloat(yv)):x.textContent.localeCompare(y.textContent);
                    return asc?c:-c;});
                  rows.forEach(function(r){tb.appendChild(r);});
                });
              });
            });
            document.body.setAttribute('data-report-ready','1');
            """;
}
