package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.kmemlab.trace.InputError;

import picocli.CommandLine;

/**
 * Where a path in a {@code kmemlab} cell points: relative paths resolve inside the output folder, so a
 * notebook writes only there and runs the same from any working directory; {@code ..} and absolute paths
 * are rejected. {@code demo:trace} names the built-in real trace (imported into {@code demo/demo.arrow}
 * on first use). Registered as picocli's converter for {@code Path}, it sees every path option and
 * parameter of every command, and defaults too (replay's {@code out/replay} lands inside the folder).
 */
final class CellPaths implements CommandLine.ITypeConverter<Path> {
    static final String DEMO_TRACE = "demo:trace";

    private final Path outDir;
    private final Path notebookFile;
    private final DemoTrace demo;
    private Path demoTrace;
    /** Only check: no import of the demo trace, no record of what was named. */
    boolean checkOnly;
    int line;
    InputError violation;
    final List<Path> named = new ArrayList<>();

    CellPaths(Path outDir, Path notebookFile, DemoTrace demo) {
        this.outDir = outDir.toAbsolutePath().normalize();
        this.notebookFile = notebookFile;
        this.demo = demo;
    }

    /** Starts a command line of the notebook: clears what the previous one named. */
    void reset(int line, boolean checkOnly) {
        this.line = line;
        this.checkOnly = checkOnly;
        violation = null;
        named.clear();
    }

    @Override
    public Path convert(String s) {
        Path p = resolve(s);
        if (!checkOnly) named.add(p);
        return p;
    }

    /** The path a cell's text names; a path leaving the folder is recorded and fails the conversion. */
    Path resolve(String s) {
        if (s.equals(DEMO_TRACE)) return checkOnly ? outDir.resolve("demo").resolve("demo.arrow") : demoTrace();
        if (s.startsWith("demo:")) throw reject("unknown built-in '" + s + "' (the built-in trace is " + DEMO_TRACE + ")");
        Path p;
        try {
            p = Path.of(s);
        } catch (InvalidPathException e) {
            throw reject("'" + s + "' is not a path: " + e.getReason());
        }
        if (p.isAbsolute() || s.startsWith("~") || s.startsWith("/") || s.startsWith("\\")) {
            throw reject("absolute path '" + s + "': paths in a notebook are relative to its output folder (-o)");
        }
        for (Path part : p) {
            if (part.toString().equals("..")) {
                throw reject("path '" + s + "' leaves the output folder: '..' is not allowed in a notebook");
            }
        }
        return outDir.resolve(p).normalize();
    }

    CommandLine.TypeConversionException reject(String why) {
        violation = InputError.atLine(notebookFile, line, why);
        return new CommandLine.TypeConversionException(violation.getMessage());
    }

    private Path demoTrace() {
        if (demoTrace == null) {
            try {
                demoTrace = demo.importInto(outDir.resolve("demo"));
            } catch (IOException e) {
                throw new UncheckedIOException("importing the built-in trace: " + e.getMessage(), e);
            }
        }
        return demoTrace;
    }
}
