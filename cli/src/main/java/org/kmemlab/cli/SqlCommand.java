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
import java.util.List;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.ResultPrinter;
import org.kmemlab.analysis.TraceDb;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab sql trace.arrow "SELECT …"}: DuckDB SQL with the trace as the table {@code events}. */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = "Run DuckDB SQL over traces (table 'events'). Without a query, an interactive prompt; statements end with ';'.")
public final class SqlCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TRACE_OR_QUERY",
            description = "Trace files, then optionally the query (the last argument that is not an existing file).")
    List<String> args;

    @Option(names = "--format", description = "table, csv or json.", defaultValue = "table")
    String format;

    @Option(names = {"-f", "--file"}, description = "Read the query from a file.")
    Path file;

    @Override
    public Integer call() throws IOException, SQLException {
        if (!List.of("table", "csv", "json").contains(format)) throw new UserError("--format must be table, csv or json, not '" + format + "'");
        List<Path> traces = new ArrayList<>();
        String query = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (i == args.size() - 1 && !Files.exists(Path.of(a)) && a.contains(" ")) query = a;
            else traces.add(Path.of(a));
        }
        if (file != null) {
            if (query != null) throw new UserError("give the query either as an argument or with -f, not both");
            query = Files.readString(file);
        }
        try (TraceDb db = TraceDb.open(traces)) {
            if (query != null) return run(db, query) ? 0 : Main.EXIT_INPUT;
            interactive(db);
        }
        return 0;
    }

    private boolean run(TraceDb db, String sql) {
        try (ResultSet rs = db.query(sql)) {
            ResultPrinter.print(rs, format, System.out);
            return true;
        } catch (SQLException e) {
            System.err.println("kmemlab: sql: " + e.getMessage().lines().findFirst().orElse(""));
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
                for (String one : splitStatements(stmt.toString())) run(db, one);
                stmt.setLength(0);
            }
        }
        if (!stmt.toString().isBlank()) run(db, stmt.toString());
    }
}
