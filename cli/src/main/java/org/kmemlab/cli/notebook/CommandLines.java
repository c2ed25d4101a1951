package org.kmemlab.cli.notebook;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.kmemlab.trace.InputError;

import picocli.CommandLine;

/**
 * The commands of {@code kmemlab} cells: one per line, split like a shell would (quotes, backslashes),
 * run in this JVM through the picocli application with their standard output and error captured.
 * Paths go through {@link CellPaths}; the few options that take a path as a string (import's inputs,
 * report's {@code --chart-sql ID=FILE}) are resolved the same way before the command runs.
 */
final class CommandLines {
    /** Commands a notebook cannot run: live recording needs root and is not repeatable, sql has its own cells. */
    static final List<String> REFUSED = List.of("record", "sql", "notebook");

    record Line(int line, String text, List<String> args) {}

    record Result(int status, String out, String err) {}

    private final Supplier<CommandLine> app;
    private final CellPaths paths;
    private final Path file;

    CommandLines(Supplier<CommandLine> app, CellPaths paths, Path file) {
        this.app = app;
        this.paths = paths;
        this.file = file;
    }

    /** The command lines of a cell; blank lines and {@code #} comments are skipped, a leading "kmemlab" is optional. */
    List<Line> lines(Notebook.Cell cell) {
        List<Line> out = new ArrayList<>();
        String[] ls = cell.body().split("\n", -1);
        for (int i = 0; i < ls.length; i++) {
            String t = ls[i].strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            int line = cell.bodyLine() + i;
            List<String> args = split(t, line);
            if (!args.isEmpty() && args.get(0).equals("kmemlab")) args.remove(0);
            if (args.isEmpty()) continue;
            out.add(new Line(line, t, args));
        }
        return out;
    }

    List<String> split(String s, int line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inArg = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == '\'') {
                if (c == '\'') quote = 0; else cur.append(c);
            } else if (quote == '"') {
                if (c == '"') quote = 0;
                else if (c == '\\' && i + 1 < s.length() && "\"\\$`".indexOf(s.charAt(i + 1)) >= 0) cur.append(s.charAt(++i));
                else cur.append(c);
            } else if (c == '\'' || c == '"') {
                quote = c;
                inArg = true;
            } else if (c == '\\' && i + 1 < s.length()) {
                cur.append(s.charAt(++i));
                inArg = true;
            } else if (Character.isWhitespace(c)) {
                if (inArg) out.add(cur.toString());
                cur.setLength(0);
                inArg = false;
            } else if ((c == '|' || c == '>' || c == '<' || c == ';' || c == '&') && !inArg) {
                throw InputError.atLine(file, line, "'" + c + "' in a kmemlab cell: one command per line, no shell (outputs go to -o paths)");
            } else {
                cur.append(c);
                inArg = true;
            }
        }
        if (quote != 0) throw InputError.atLine(file, line, "unclosed " + quote + " quote");
        if (inArg) out.add(cur.toString());
        return out;
    }

    /**
     * Checks a line before anything runs: a refused command, or a path leaving the output folder, is an
     * InputError naming the notebook line. Other mistakes (an unknown option) show in the cell when it runs.
     */
    void check(Line l) {
        if (REFUSED.contains(l.args().get(0))) {
            throw InputError.atLine(file, l.line(), "'" + l.args().get(0) + "' cannot run in a notebook cell"
                    + (l.args().get(0).equals("sql") ? " (write a ```sql cell)" : ""));
        }
        paths.reset(l.line(), true);
        CommandLine cl = configure(app.get());
        try {
            CommandLine.ParseResult pr = cl.parseArgs(l.args().toArray(new String[0]));
            stringPaths(pr);
        } catch (CommandLine.ParameterException e) {
            if (paths.violation == null) return;
        }
        if (paths.violation != null) throw paths.violation;
    }

    /** Runs a line with System.out and System.err captured (the commands print to them directly). */
    Result run(Line l) {
        paths.reset(l.line(), false);
        CommandLine cl = configure(app.get());
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        PrintStream po = new PrintStream(out, true, StandardCharsets.UTF_8), pe = new PrintStream(err, true, StandardCharsets.UTF_8);
        int status;
        try {
            System.setOut(po);
            System.setErr(pe);
            cl.setOut(new PrintWriter(po, true));
            cl.setErr(new PrintWriter(pe, true));
            status = cl.execute(l.args().toArray(new String[0]));
        } finally {
            po.flush();
            pe.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(status, terminal(out.toString(StandardCharsets.UTF_8)), terminal(err.toString(StandardCharsets.UTF_8)));
    }

    /** The paths the last line named, resolved, in order. */
    List<Path> named() { return List.copyOf(paths.named); }

    InputError violation() { return paths.violation; }

    private CommandLine configure(CommandLine cl) {
        cl.registerConverter(Path.class, paths);
        cl.setExecutionStrategy(pr -> {
            stringPaths(pr);
            return new CommandLine.RunLast().execute(pr);
        });
        return cl;
    }

    /** Resolves the string-typed paths of the command being run, in place. */
    private void stringPaths(CommandLine.ParseResult pr) {
        CommandLine.ParseResult leaf = pr;
        while (leaf.subcommand() != null) leaf = leaf.subcommand();
        CommandLine.Model.CommandSpec spec = leaf.commandSpec();
        try {
            switch (spec.name()) {
                case "import" -> {
                    CommandLine.Model.PositionalParamSpec in = spec.positionalParameters().get(0);
                    List<String> v = in.getValue();
                    if (v == null) return;
                    List<String> r = new ArrayList<>();
                    for (String s : v) {
                        if (s.equals("-")) throw paths.reject("a notebook has no standard input: import a file");
                        r.add(paths.convert(s).toString());
                    }
                    in.setValue(r);
                }
                case "report" -> {
                    CommandLine.Model.OptionSpec o = spec.findOption("--chart-sql");
                    List<String> v = o == null ? null : o.getValue();
                    if (v == null) return;
                    List<String> r = new ArrayList<>();
                    for (String s : v) {
                        int eq = s.indexOf('=');
                        r.add(eq < 0 ? s : s.substring(0, eq + 1) + paths.convert(s.substring(eq + 1)));
                    }
                    o.setValue(r);
                }
                default -> { }
            }
        } catch (CommandLine.TypeConversionException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /**
     * Text as a terminal would leave it: a carriage return (progress bars) rewrites its line, ANSI colour
     * and cursor codes are dropped.
     */
    static String terminal(String s) {
        s = s.replaceAll("\u001B\\[[0-9;?]*[A-Za-z]", "").replace("\r\n", "\n");
        if (s.indexOf('\r') < 0) return s;
        List<String> out = new ArrayList<>();
        for (String line : s.split("\n", -1)) {
            String l = line.replaceAll("\r+$", "");
            out.add(l.substring(l.lastIndexOf('\r') + 1));
        }
        return String.join("\n", out);
    }
}
