package org.kmemlab.cli.notebook;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.trace.InputError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The notebook format: cells and prose, fences, chart options, statements, command lines. */
class NotebookParserTest {
    static final Path F = Path.of("nb.md");

    @Test
    void cellsProseAndFencesThatStayProse() {
        String text = String.join("\n",
                "# Title",                      // 1
                "",                             // 2
                "Some prose.",                  // 3
                "```sql",                       // 4
                "SELECT 1;",                    // 5
                "```",                          // 6
                "````markdown",                 // 7  a longer fence shows a cell without running it
                "```sql",                       // 8
                "SELECT 'not run'",             // 9
                "```",                          // 10
                "````",                         // 11
                "```text",                      // 12 another language stays prose
                "plain",                        // 13
                "```",                          // 14
                "- a list item",                // 15
                "",                             // 16
                "  ```sql",                     // 17 inside the list item: prose
                "  SELECT 2",                   // 18
                "  ```",                        // 19
                "",                             // 20
                "````kmemlab",                  // 21 a longer fence may hold ``` in its body
                "stat t.arrow",                 // 22
                "```",                          // 23
                "````",                         // 24
                "~~~chart title=x",             // 25 tildes, and words after the kind
                "x: time",                      // 26
                "SELECT 1, 'a', 2",             // 27
                "~~~",                          // 28
                "```verdict",                   // 29
                "SELECT 'c' AS claim, 1 AS expected, 1 AS measured, true AS holds", // 30
                "```",                          // 31
                "",                             // 32
                "Closing words.",               // 33
                "");
        Notebook nb = NotebookParser.parse(text, F);
        List<Notebook.Block> b = nb.blocks();
        assertEquals(7, b.size(), b.toString());
        assertEquals(new Notebook.Prose("# Title\n\nSome prose.\n", 1), b.get(0));
        assertEquals(new Notebook.Cell(Notebook.Kind.SQL, "SELECT 1;\n", 4), b.get(1));
        Notebook.Prose middle = (Notebook.Prose) b.get(2);
        assertEquals(7, middle.line());
        assertTrue(middle.markdown().startsWith("````markdown\n```sql\nSELECT 'not run'"), middle.markdown());
        assertTrue(middle.markdown().endsWith("  ```\n"), middle.markdown());
        assertEquals(new Notebook.Cell(Notebook.Kind.KMEMLAB, "stat t.arrow\n```\n", 21), b.get(3));
        assertEquals(new Notebook.Cell(Notebook.Kind.CHART, "x: time\nSELECT 1, 'a', 2\n", 25), b.get(4));
        assertEquals(Notebook.Kind.VERDICT, ((Notebook.Cell) b.get(5)).kind());
        assertEquals(29, ((Notebook.Cell) b.get(5)).line());
        assertEquals(new Notebook.Prose("Closing words.\n", 33), b.get(6));
        assertEquals(4, nb.cells().size());
        assertEquals("Title", nb.title());
        assertEquals("nb", nb.name());
    }

    @Test
    void anUnclosedCellFenceNamesItsLine() {
        InputError e = assertThrows(InputError.class, () -> NotebookParser.parse("text\n\n```sql\nSELECT 1\n", F));
        assertEquals("nb.md:3: the ```sql cell's fence is never closed", e.getMessage());
    }

    @Test
    void chartOptions() {
        Notebook.Cell c = new Notebook.Cell(Notebook.Kind.CHART,
                "title: Live bytes: total\nkind: stacked-bar\nx: cache\ny: bytes\nunit: bytes\nlog: y\nsize: 640x320\n\nSELECT a, b, c\nFROM t\n", 10);
        ChartCell o = ChartCell.parse(c, F);
        assertEquals("Live bytes: total", o.title());
        assertEquals(ChartSpec.Kind.STACKED_BAR, o.kind());
        assertEquals("cache", o.xLabel());
        assertEquals("bytes", o.yLabel());
        assertEquals(ChartSpec.Unit.BYTES, o.unit());
        assertFalse(o.logX());
        assertTrue(o.logY());
        assertEquals(640, o.width());
        assertEquals(320, o.height());
        assertEquals("SELECT a, b, c\nFROM t", o.sql());
        // defaults; a comment line starts the query
        ChartCell d = ChartCell.parse(new Notebook.Cell(Notebook.Kind.CHART, "-- x, series, y\nSELECT 1, 'a', 2\n", 1), F);
        assertEquals(ChartSpec.Kind.LINE, d.kind());
        assertEquals("-- x, series, y\nSELECT 1, 'a', 2", d.sql());

        InputError e = assertThrows(InputError.class,
                () -> ChartCell.parse(new Notebook.Cell(Notebook.Kind.CHART, "title: t\ncolour: red\nSELECT 1, 2\n", 10), F));
        assertTrue(e.getMessage().startsWith("nb.md:12: unknown chart option 'colour'"), e.getMessage());
        e = assertThrows(InputError.class,
                () -> ChartCell.parse(new Notebook.Cell(Notebook.Kind.CHART, "kind: bar\nlog: x\nSELECT 1, 2\n", 10), F));
        assertEquals("nb.md:12: a log x axis needs kind: line (bars have categories on x)", e.getMessage());
        e = assertThrows(InputError.class,
                () -> ChartCell.parse(new Notebook.Cell(Notebook.Kind.CHART, "kind: pie\nSELECT 1, 2\n", 10), F));
        assertTrue(e.getMessage().startsWith("nb.md:11: kind must be"), e.getMessage());
        e = assertThrows(InputError.class, () -> ChartCell.parse(new Notebook.Cell(Notebook.Kind.CHART, "title: only\n", 10), F));
        assertEquals("nb.md:10: a chart cell needs a query after its options", e.getMessage());
    }

    @Test
    void statementsSplitOutsideQuotesAndComments() {
        // a semicolon in a comment is text: the comment line belongs to the statement after it
        assertEquals(List.of("SELECT ';' AS a", "SELECT \"x;y\" FROM t -- c;", "-- only a comment;\nSELECT /* ; */ 3"),
                SqlScript.split("SELECT ';' AS a;\nSELECT \"x;y\" FROM t -- c;\n;\n-- only a comment;\nSELECT /* ; */ 3"));
        assertEquals(List.of("SELECT 'it''s; fine'"), SqlScript.split("SELECT 'it''s; fine';"));
        assertEquals("per_cpu", SqlScript.name("-- name: per_cpu\nSELECT 1"));
        assertNull(SqlScript.name("SELECT 1 -- name: x"));
    }

    @Test
    void commandLinesSplitLikeAShell() {
        CommandLines c = new CommandLines(null, null, F);
        assertEquals(List.of("replay", "t.arrow", "-p", "baseline", "--set", "kvmalloc.policy=XFS_FAILFAST"),
                c.split("replay t.arrow  -p baseline --set kvmalloc.policy=XFS_FAILFAST", 1));
        assertEquals(List.of("report", "a b.arrow", "--title", "it's \"here\"", "x\\y", "c d"),
                c.split("report 'a b.arrow' --title \"it's \\\"here\\\"\" 'x\\y' c\\ d", 1));
        assertEquals(List.of("a", ""), c.split("a ''", 1));
        InputError e = assertThrows(InputError.class, () -> c.split("stat 'x.arrow", 7));
        assertEquals("nb.md:7: unclosed ' quote", e.getMessage());
        e = assertThrows(InputError.class, () -> c.split("stat x.arrow > out.txt", 8));
        assertTrue(e.getMessage().startsWith("nb.md:8: '>' in a kmemlab cell"), e.getMessage());
        List<CommandLines.Line> ls = c.lines(new Notebook.Cell(Notebook.Kind.KMEMLAB, "# comment\n\nkmemlab stat a.arrow\ninfo a.arrow\n", 20));
        assertEquals(2, ls.size());
        assertEquals(new CommandLines.Line(23, "kmemlab stat a.arrow", List.of("stat", "a.arrow")), ls.get(0));
        assertEquals(24, ls.get(1).line());
    }

    @Test
    void capturedTextReadsAsOnATerminal() {
        assertEquals("done 100%\nnext\n", CommandLines.terminal("\rdone 10%\rdone 100%\nnext\n"));
        assertEquals("red plain\n", CommandLines.terminal("\u001B[31mred\u001B[0m plain\n"));
        assertEquals("a\r\n".replace("\r", ""), CommandLines.terminal("a\r\n"));
    }

    @Test
    void valuesAsText() {
        assertEquals("12345", ResultTable.text(12345L));
        assertEquals("3", ResultTable.text(3.0));
        assertEquals("0.981234", ResultTable.text(0.98123412345678));
        assertEquals("1.23457e-07", ResultTable.text(1.2345678e-7));
        assertEquals("-1,234,567.5", ResultTable.grouped(-1234567.5));
        assertEquals("-0.5", ResultTable.grouped(-0.5));
        assertEquals("999", ResultTable.grouped(999));
        assertEquals("1,000", ResultTable.grouped(1000));
    }

    @Test
    void summaryJsonFlattensToDottedKeys() throws Exception {
        JsonNode n = new ObjectMapper().readTree("{\"requests\": 5, \"by\": {\"kind\": {\"kmalloc\": 3}}, \"list\": [\"a\", 7],"
                + " \"deadlock\": null, \"era\": \"E2020\", \"empty\": {}, \"ratio\": \"0.5\", \"ok\": true}");
        Map<String, JsonNode> flat = new java.util.LinkedHashMap<>();
        Attachments.flatten("", n, flat);
        assertEquals(List.of("requests", "by.kind.kmalloc", "list.0", "list.1", "deadlock", "era", "empty", "ratio", "ok"), List.copyOf(flat.keySet()));
        assertEquals(3.0, Attachments.number(flat.get("by.kind.kmalloc")));
        assertEquals(0.5, Attachments.number(flat.get("ratio")));
        assertNull(Attachments.number(flat.get("era")));
        assertNull(Attachments.number(flat.get("ok")));
        assertNull(Attachments.number(flat.get("deadlock")));
    }
}
