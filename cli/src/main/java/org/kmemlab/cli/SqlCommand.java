package org.kmemlab.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.io.PrintStream;
import java.sql.PreparedStatement;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.ResultPrinter;
import org.kmemlab.analysis.TraceDb;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kmemlab sql trace.arrow [more.arrow] [out/] "SELECT …"}: DuckDB SQL with the traces as the table
 * {@code events} and kmemlab's views (analysis-sql/VIEWS.md); a folder's Parquet files become views.
 * Users' queries run as given. The tool's own parameters (the time window, --param values, the row
 * limit) are bound or applied through JDBC, never spliced into the text.
 */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = "Run DuckDB SQL over traces (table 'events' and the views of VIEWS.md). Without a query, an interactive prompt; statements end with ';'.")
public final class SqlCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT_OR_QUERY",
            description = "Trace files and replay output folders, then optionally the query (the last argument that is not an existing file).")
    List<String> args;

    @Option(names = "--format", description = "table, csv, json, arrow or parquet (arrow and parquet need -o).", defaultValue = "table")
    String format;

    @Option(names = {"-f", "--file"}, description = "Read the query from a file (several statements allowed; the last one's result is printed or written).")
    Path file;

    @Option(names = {"-o", "--output"}, description = "Write the result to this file (required for arrow and parquet).")
    Path output;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    /** -o as given; {@link #output} is its temporary sibling while the query runs. */
    private Path target;

    @Option(names = "--time", paramLabel = "START,END", description = "Keep events between START and END seconds after the trace start (either may be empty).")
    String time;

    @Option(names = "--param", paramLabel = "NAME=VALUE", description = "Bind :NAME in the query to VALUE (a number when it parses as one). Repeatable.")
    List<String> params = new ArrayList<>();

    @Option(names = "--limit", description = "Print at most this many rows.", defaultValue = "0")
    int limit;

    static final List<String> FORMATS = List.of("table", "csv", "json", "arrow", "parquet");

    @Override
    public Integer call() throws IOException, SQLException {
        if (!FORMATS.contains(format)) throw new UserError("--format must be one of " + String.join(", ", FORMATS) + ", not '" + format + "'");
        boolean binary = format.equals("arrow") || format.equals("parquet");
        if (binary && output == null) throw new UserError("--format " + format + " writes a file: give it with -o FILE");
        if (limit < 0) throw new UserError("--limit must be >= 0");
        List<Path> traces = new ArrayList<>();
        List<Path> folders = new ArrayList<>();
        String query = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            Path p = Path.of(a);
            if (Files.isDirectory(p)) folders.add(p);
            else if (Files.exists(p)) traces.add(p);
            else if (i == args.size() - 1 && (a.contains(" ") || a.contains("\n"))) query = a;
            else throw new UserError(a + ": does not exist");
        }
        if (file != null) {
            if (query != null) throw new UserError("give the query either as an argument or with -f, not both");
            query = Files.readString(file);
        }
        if (query == null && binary) throw new UserError("--format " + format + " needs a query");
        Map<String, Object> bound = parseParams(params);
        Double[] window = parseTime(time);
        if (output != null) {
            Outputs.refuseExisting(output, force.force);
            if (Files.isDirectory(output)) throw new UserError(output + ": is a folder, expected a file name");
            target = output;
            output = Outputs.temporary(output);
        }
        boolean ok = false;
        try {
            int st = query(traces, folders, query, bound, window);
            ok = st == 0;
            return st;
        } finally {
            if (target != null) {
                if (ok && Files.exists(output)) Files.move(output, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                else Outputs.deleteTree(output);
                output = target;
            }
        }
    }

    private int query(List<Path> traces, List<Path> folders, String query, Map<String, Object> bound, Double[] window)
            throws IOException, SQLException {
        try (TraceDb db = TraceDb.open(traces)) {
            for (Path f : folders) {
                if (db.attachFolder(f).isEmpty()) throw new UserError(f + ": a folder without replay output, Parquet or Arrow files to query");
            }
            if (window != null) db.restrictTime(window[0], window[1]);
            if (query != null) return runAll(db, query, bound) ? 0 : Main.EXIT_INPUT;
            interactive(db);
        }
        return 0;
    }

    static Map<String, Object> parseParams(List<String> ps) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String p : ps) {
            int eq = p.indexOf('=');
            if (eq <= 0 || !p.substring(0, eq).matches("[A-Za-z_][A-Za-z0-9_]*")) throw new UserError("--param wants NAME=VALUE, not '" + p + "'");
            String v = p.substring(eq + 1);
            Object val = v;
            try { val = Long.parseLong(v); } catch (NumberFormatException e) {
                try { val = Double.parseDouble(v); } catch (NumberFormatException e2) { val = v; }
            }
            m.put(p.substring(0, eq), val);
        }
        return m;
    }

    static Double[] parseTime(String t) {
        if (t == null) return null;
        int c = t.indexOf(',');
        if (c < 0) throw new UserError("--time wants START,END in seconds (either may be empty), not '" + t + "'");
        try {
            Double a = t.substring(0, c).isBlank() ? null : Double.valueOf(t.substring(0, c).strip());
            Double b = t.substring(c + 1).isBlank() ? null : Double.valueOf(t.substring(c + 1).strip());
            if (a != null && b != null && a > b) throw new UserError("--time: START " + a + " is after END " + b);
            return new Double[] {a, b};
        } catch (NumberFormatException e) {
            throw new UserError("--time wants numbers of seconds, not '" + t + "'");
        }
    }

    private boolean runAll(TraceDb db, String sql, Map<String, Object> bound) {
        List<String> stmts = splitStatements(sql);
        for (int i = 0; i < stmts.size(); i++) {
            if (!run(db, stmts.get(i), bound, i == stmts.size() - 1)) return false;
        }
        return true;
    }

    private boolean run(TraceDb db, String sql, Map<String, Object> bound, boolean last) {
        try {
            NamedParams.Bound b = bound.isEmpty() ? new NamedParams.Bound(sql, List.of()) : NamedParams.bind(sql, bound);
            if (last && format.equals("arrow")) {
                long n = db.exportArrow(b.sql(), b.params(), output);
                System.err.println("kmemlab: wrote " + n + " rows to " + (target != null ? target : output));
                return true;
            }
            if (last && format.equals("parquet")) {
                db.exportParquet(b.sql(), b.params(), output);
                System.err.println("kmemlab: wrote " + (target != null ? target : output));
                return true;
            }
            try (PreparedStatement ps = db.prepare(b.sql(), b.params())) {
                if (!ps.execute()) return true;
                try (ResultSet rs = ps.getResultSet()) {
                    if (output != null && last) {
                        try (PrintStream out = new PrintStream(Files.newOutputStream(output), true, StandardCharsets.UTF_8)) {
                            ResultPrinter.print(rs, format, out, limit);
                        }
                    } else {
                        ResultPrinter.print(rs, format, System.out, limit);
                    }
                }
            }
            return true;
        } catch (IllegalArgumentException e) {
            System.err.println("kmemlab: sql: " + e.getMessage());
            return false;
        } catch (SQLException | IOException e) {
            System.err.println("kmemlab: sql: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            return false;
        }
    }

    /** Splits on ';' outside quotes, so that several statements on a line each print their result. */
    static List<String> splitStatements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (char c : sql.toCharArray()) {
            if (quote != 0) {
                if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == ';') {
                if (!cur.toString().isBlank()) out.add(cur.toString());
                cur.setLength(0);
                continue;
            }
            cur.append(c);
        }
        if (!cur.toString().isBlank()) out.add(cur.toString());
        return out;
    }

    private void interactive(TraceDb db) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        boolean tty = System.console() != null;
        StringBuilder stmt = new StringBuilder();
        if (tty) System.out.println("kmemlab sql: table 'events'; end statements with ';', quit with \\q or Ctrl-D.");
        while (true) {
            if (tty) System.out.print(stmt.length() == 0 ? "kmemlab> " : "     ...> ");
            String line = in.readLine();
            if (line == null || line.trim().equals("\\q")) break;
            stmt.append(line).append('\n');
            if (line.trim().endsWith(";")) {
                for (String one : splitStatements(stmt.toString())) run(db, one, Map.of(), false);
                stmt.setLength(0);
            }
        }
        if (!stmt.toString().isBlank()) run(db, stmt.toString(), Map.of(), false);
    }
}
