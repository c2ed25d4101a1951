package org.kmemlab.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.kmemlab.alloc.page.MachineTooLargeException;
import org.kmemlab.alloc.snapshot.SnapshotFormatException;
import org.kmemlab.trace.InputError;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code kmemlab}: record, import, replay and analyse kernel allocation traces. Bad input prints one line
 * naming the file and position and exits 2; an internal error prints one line pointing to a log that
 * holds the stack trace and exits 1.
 */
@Command(name = "kmemlab", mixinStandardHelpOptions = true, version = "kmemlab 0.1.0",
        description = "Kernel allocation traces: record, import, replay under alternative policies, analyse with SQL.",
        subcommands = {DemoCommand.class, RecordCommand.class, ImportCommand.class, GenerateCommand.class, InfoCommand.class, StatCommand.class, SqlCommand.class,
            ReplayCommand.class, FidelityCommand.class, PoliciesCommand.class, ModelCommand.class, ExportCommand.class,
            ReportCommand.class, HotCommand.class, FlameCommand.class, NotebookCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_INPUT = 2;
    public static final int EXIT_INTERNAL = 1;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> handle(ex, cmd));
        return cl;
    }

    static int handle(Exception ex, CommandLine cmd) {
        Throwable t = ex;
        while (t.getCause() != null && !isInputError(t)) t = t.getCause();
        if (isInputError(t)) {
            cmd.getErr().println("kmemlab: " + t.getMessage());
            return EXIT_INPUT;
        }
        if (t instanceof java.nio.file.NoSuchFileException nf) {
            cmd.getErr().println("kmemlab: " + nf.getFile() + ": does not exist");
            return EXIT_INPUT;
        }
        String log = writeLog(ex);
        cmd.getErr().println("kmemlab: internal error: " + ex + (log == null ? "" : " (stack trace in " + log + ")"));
        return EXIT_INTERNAL;
    }

    /**
     * Bad input: kmemlab's own error type, a mistake in the call, a machine snapshot the model cannot read, or
     * a machine too large for the model or the heap.
     */
    static boolean isInputError(Throwable t) {
        return t instanceof InputError || t instanceof UserError || t instanceof SnapshotFormatException
                || t instanceof MachineTooLargeException;
    }

    private static String writeLog(Throwable t) {
        try {
            Path p = Files.createTempFile("kmemlab-error-", ".log");
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            Files.writeString(p, sw.toString());
            return p.toString();
        } catch (IOException e) {
            return null;
        }
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
