package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

import org.kmemlab.analysis.TraceDb;
import org.kmemlab.trace.InputError;

import picocli.CommandLine;

/**
 * Runs a notebook's cells in order in one DuckDB session (TraceDb). Before anything runs, every cell is
 * checked (chart options, {@code -- name:} names, command lines and their paths), so a mistake in the
 * file is one InputError naming its line. At run time a failing cell records its error in place and the
 * cells after it still run; a cell that needs a table the failed one would have made fails in turn.
 */
public final class NotebookRunner {
    private final Path outDir;
    private final Supplier<CommandLine> app;
    private final DemoTrace demo;
    private final PrintStream progress;

    /**
     * @param app a fresh instance of the kmemlab picocli application per call (commands keep option values)
     * @param demo imports the built-in trace for {@code demo:trace}
     * @param progress where one line per cell goes (stderr)
     */
    public NotebookRunner(Path outDir, Supplier<CommandLine> app, DemoTrace demo, PrintStream progress) {
        this.outDir = outDir.toAbsolutePath().normalize();
        this.app = app;
        this.demo = demo;
        this.progress = progress;
    }

    public NotebookRun run(Notebook nb) throws IOException, SQLException {
        Path file = nb.file();
        CellPaths paths = new CellPaths(outDir, file, demo);
        CommandLines commands = new CommandLines(app, paths, file);
        List<Object> prepared = check(nb, commands);
        Files.createDirectories(outDir);
        List<CellRun> runs = new ArrayList<>();
        List<Notebook.Cell> cells = nb.cells();
        try (TraceDb db = TraceDb.open(List.of())) {
            // relative file names in SQL (read_parquet('x/y.parquet')) resolve in the output folder, as in cells
            db.execute("SET file_search_path = " + TraceDb.quoteLiteral(outDir.toString()));
            db.execute("CREATE TABLE kmemlab_output (cell INTEGER, line INTEGER, command VARCHAR, stream VARCHAR, line_no INTEGER, text VARCHAR)");
            Attachments attach = new Attachments(db);
            for (int i = 0; i < cells.size(); i++) {
                Notebook.Cell c = cells.get(i);
                long t0 = System.nanoTime();
                progress.printf(Locale.ROOT, "notebook %s: [%d/%d] line %d %s ...%n", file.getFileName(), i + 1, cells.size(), c.line(), c.kind().fence());
                CellRun r = switch (c.kind()) {
                    case SQL -> sql(db, c, i + 1);
                    case VERDICT -> verdict(db, c, i + 1);
                    case CHART -> chart(db, c, (ChartCell) prepared.get(i), i + 1);
                    case KMEMLAB -> kmemlab(db, attach, commands, c, i + 1);
                };
                runs.add(r);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                if (r.failed()) {
                    Output.Error e = (Output.Error) r.outputs().stream().filter(o -> o instanceof Output.Error).findFirst().orElseThrow();
                    progress.printf(Locale.ROOT, "notebook %s: [%d/%d] line %d FAILED (%d ms): %s%n", file.getFileName(), i + 1, cells.size(), c.line(), ms, e.evalue());
                } else if (r.claims() != null) {
                    long held = r.claims().stream().filter(CellRun.Claim::held).count();
                    progress.printf(Locale.ROOT, "notebook %s: [%d/%d] verdict: %d of %d claims hold (%d ms)%n", file.getFileName(), i + 1, cells.size(),
                            held, r.claims().size(), ms);
                    for (CellRun.Claim cl : r.claims()) {
                        if (!cl.held()) progress.printf(Locale.ROOT, "  ✗ %s: expected %s, measured %s%n", cl.claim(), cl.expected(), cl.measured());
                    }
                } else {
                    progress.printf(Locale.ROOT, "notebook %s: [%d/%d] ok (%d ms)%n", file.getFileName(), i + 1, cells.size(), ms);
                }
            }
        }
        return new NotebookRun(nb, runs);
    }

    /** Checks every cell; returns per cell what its check prepared (the chart's options), or null. */
    private List<Object> check(Notebook nb, CommandLines commands) {
        List<Object> out = new ArrayList<>();
        for (Notebook.Cell c : nb.cells()) {
            Object p = null;
            switch (c.kind()) {
                case CHART -> p = ChartCell.parse(c, nb.file());
                case KMEMLAB -> {
                    List<CommandLines.Line> ls = commands.lines(c);
                    if (ls.isEmpty()) throw InputError.atLine(nb.file(), c.line(), "a kmemlab cell needs a command, e.g. stat demo:trace");
                    for (CommandLines.Line l : ls) commands.check(l);
                }
                case SQL, VERDICT -> {
                    String name = SqlScript.name(c.body());
                    if (name != null && c.kind() == Notebook.Kind.VERDICT) throw InputError.atLine(nb.file(), c.bodyLine(), "a verdict cell is not saved as a table");
                    if (name != null && (!SqlScript.IDENT.matcher(name).matches() || name.equalsIgnoreCase("events"))) {
                        throw InputError.atLine(nb.file(), c.bodyLine(), "'-- name: " + name + "' needs a plain identifier other than events");
                    }
                    if (SqlScript.split(c.body()).isEmpty()) throw InputError.atLine(nb.file(), c.line(), "an empty ```" + c.kind().fence() + " cell");
                }
            }
            out.add(p);
        }
        return out;
    }

    private CellRun sql(TraceDb db, Notebook.Cell c, int n) {
        List<Output> outs = new ArrayList<>();
        String name = SqlScript.name(c.body());
        List<String> stmts = SqlScript.split(c.body());
        try {
            for (int i = 0; i < stmts.size(); i++) {
                String s = stmts.get(i);
                if (i == stmts.size() - 1 && name != null) {
                    db.execute("CREATE OR REPLACE TABLE \"" + name + "\" AS " + s);
                    try (ResultSet rs = db.query("SELECT * FROM \"" + name + "\"")) {
                        ResultTable t = ResultTable.read(rs);
                        outs.add(table(t, "saved as table " + name + ": "));
                    }
                } else {
                    ResultTable t = execute(db, s);
                    if (t != null) outs.add(table(t, ""));
                }
            }
        } catch (SQLException e) {
            outs.add(error("SQL error", c, e.getMessage()));
            return new CellRun(c, n, outs, true, null);
        }
        return new CellRun(c, n, outs, false, null);
    }

    private static Output.Rich table(ResultTable t, String note) {
        String html = t.html();
        if (!note.isEmpty()) html = html.replaceFirst("<p class=\"rows\">", "<p class=\"rows\">" + org.kmemlab.analysis.report.Html.esc(note));
        return new Output.Rich(html, t.plain().replaceFirst("\\(([^)]*)\\)\n$", "(" + note + "$1)\n"));
    }

    /** Runs one statement; the rows when it returns some, else null. */
    private static ResultTable execute(TraceDb db, String sql) throws SQLException {
        // prepared, not Statement.execute: DuckDB's JDBC then reports the error itself, not a "pending query result"
        try (PreparedStatement st = db.connection().prepareStatement(sql)) {
            if (!st.execute()) return null;
            try (ResultSet rs = st.getResultSet()) {
                return ResultTable.read(rs);
            }
        }
    }

    private CellRun verdict(TraceDb db, Notebook.Cell c, int n) {
        List<Output> outs = new ArrayList<>();
        List<String> stmts = SqlScript.split(c.body());
        try {
            ResultTable t = null;
            for (String s : stmts) t = execute(db, s);
            if (t == null) throw new SQLException("a verdict cell ends with a query returning claim, expected, measured, holds");
            int[] col = new int[4];
            String[] want = {"claim", "expected", "measured", "holds"};
            for (int k = 0; k < 4; k++) {
                col[k] = -1;
                for (int j = 0; j < t.names.size(); j++) if (t.names.get(j).equalsIgnoreCase(want[k])) col[k] = j;
                if (col[k] < 0) throw new SQLException("a verdict query returns the columns claim, expected, measured, holds; "
                        + want[k] + " is missing (got " + String.join(", ", t.names) + ")");
            }
            if (t.total() == 0) throw new SQLException("the verdict query returned no claims");
            if (t.total() > t.rows.size()) throw new SQLException("a verdict holds at most " + ResultTable.MAX_ROWS + " claims");
            List<CellRun.Claim> claims = new ArrayList<>();
            for (Object[] r : t.rows) {
                Object h = r[col[3]];
                if (h != null && !(h instanceof Boolean)) throw new SQLException("holds must be a boolean, not " + h + " (" + h.getClass().getSimpleName() + ")");
                claims.add(new CellRun.Claim(String.valueOf(r[col[0]]), ResultTable.text(r[col[1]]), ResultTable.text(r[col[2]]), (Boolean) h));
            }
            outs.add(Verdicts.render(claims));
            return new CellRun(c, n, outs, false, claims);
        } catch (SQLException e) {
            outs.add(error("verdict error", c, e.getMessage()));
            return new CellRun(c, n, outs, true, null);
        }
    }

    private CellRun chart(TraceDb db, Notebook.Cell c, ChartCell spec, int n) {
        try {
            return new CellRun(c, n, List.of(spec.render(db, "nb" + n)), false, null);
        } catch (SQLException | IOException | RuntimeException e) {
            return new CellRun(c, n, List.of(error("chart error", c, e.getMessage() == null ? e.toString() : e.getMessage())), true, null);
        }
    }

    private CellRun kmemlab(TraceDb db, Attachments attach, CommandLines commands, Notebook.Cell c, int n) {
        List<Output> outs = new ArrayList<>();
        List<CommandLines.Line> lines = commands.lines(c);
        StringBuilder out = new StringBuilder(), err = new StringBuilder();
        boolean failed = false;
        for (CommandLines.Line l : lines) {
            if (lines.size() > 1) out.append("$ kmemlab ").append(l.text().replaceFirst("^kmemlab\\s+", "")).append('\n');
            CommandLines.Result r;
            try {
                r = commands.run(l);
            } catch (RuntimeException e) {
                // the converter imports the demo trace; a failure there escapes picocli's handlers
                flush(outs, out, err);
                outs.add(error("kmemlab error", c, e.getMessage() == null ? e.toString() : e.getMessage()));
                failed = true;
                break;
            }
            out.append(r.out());
            err.append(r.err());
            try {
                record(db, n, l, r);
            } catch (SQLException e) {
                throw new IllegalStateException("kmemlab_output: " + e.getMessage(), e);
            }
            if (r.status() != 0 || commands.violation() != null) {
                flush(outs, out, err);
                String msg = commands.violation() != null ? commands.violation().getMessage()
                        : lastLine(r.err(), "exit status " + r.status());
                outs.add(error("kmemlab " + l.args().get(0) + " failed", c, msg + "\n(line " + l.line() + ": kmemlab "
                        + String.join(" ", l.args()) + ", exit status " + r.status() + ")"));
                failed = true;
                break;
            }
            try {
                for (String note : attach.attach(commands.named(), outDir)) out.append(note).append('\n');
            } catch (IOException | SQLException | RuntimeException e) {
                flush(outs, out, err);
                outs.add(error("attach error", c, "attaching the outputs of line " + l.line() + " to SQL: " + e.getMessage()));
                failed = true;
                break;
            }
        }
        flush(outs, out, err);
        return new CellRun(c, n, outs, failed, null);
    }

    /**
     * Keeps a command's output lines in {@code kmemlab_output}, so that a verdict can set what a command
     * printed (stat's totals, say) beside what a query measures.
     */
    private static void record(TraceDb db, int cell, CommandLines.Line l, CommandLines.Result r) throws SQLException {
        try (PreparedStatement ps = db.connection().prepareStatement("INSERT INTO kmemlab_output VALUES (?, ?, ?, ?, ?, ?)")) {
            String command = String.join(" ", l.args());
            for (String[] stream : new String[][] {{"stdout", r.out()}, {"stderr", r.err()}}) {
                if (stream[1].isEmpty()) continue;
                String[] ls = stream[1].split("\n", -1);
                int count = stream[1].endsWith("\n") ? ls.length - 1 : ls.length;
                for (int i = 0; i < count; i++) {
                    ps.setInt(1, cell);
                    ps.setInt(2, l.line());
                    ps.setString(3, command);
                    ps.setString(4, stream[0]);
                    ps.setInt(5, i + 1);
                    ps.setString(6, ls[i]);
                    ps.addBatch();
                }
            }
            ps.executeBatch();
        }
    }

    private static void flush(List<Output> outs, StringBuilder out, StringBuilder err) {
        if (out.length() > 0) outs.add(new Output.Stream("stdout", out.toString()));
        if (err.length() > 0) outs.add(new Output.Stream("stderr", err.toString()));
        out.setLength(0);
        err.setLength(0);
    }

    private static String lastLine(String s, String dflt) {
        String[] ls = s.strip().split("\n");
        String l = ls[ls.length - 1].strip();
        return l.isEmpty() ? dflt : l;
    }

    /** An error output: first line as the value, the whole message with the notebook position as the traceback. */
    private static Output.Error error(String ename, Notebook.Cell c, String message) {
        String msg = message == null ? ename : message.strip();
        // DuckDB's JDBC puts a generic line before the real error of a failed execution
        msg = msg.replaceFirst("^Invalid Input Error: Attempting to execute an unsuccessful or closed pending query result\\s*\n(Error: )?", "");
        List<String> tb = new ArrayList<>(Arrays.asList(msg.split("\n")));
        String first = tb.isEmpty() ? ename : tb.get(0);
        tb.add("(the " + c.kind().fence() + " cell at line " + c.line() + ")");
        return new Output.Error(ename, first, tb);
    }
}
