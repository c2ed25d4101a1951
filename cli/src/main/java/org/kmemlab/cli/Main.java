package org.kmemlab.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

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
        description = "Kernel allocation traces: record, import, replay under alternative policies, analyse with SQL.")
public final class Main implements Runnable {
    public static final int EXIT_INPUT = 2;
    public static final int EXIT_INTERNAL = 1;

    /** The subcommands by the name their {@code @Command} gives them, in the order help lists them. */
    static final Map<String, Supplier<Object>> SUBCOMMANDS = new LinkedHashMap<>();
    static {
        SUBCOMMANDS.put("demo", DemoCommand::new);
        SUBCOMMANDS.put("record", RecordCommand::new);
        SUBCOMMANDS.put("import", ImportCommand::new);
        SUBCOMMANDS.put("generate", GenerateCommand::new);
        SUBCOMMANDS.put("info", InfoCommand::new);
        SUBCOMMANDS.put("stat", StatCommand::new);
        SUBCOMMANDS.put("sql", SqlCommand::new);
        SUBCOMMANDS.put("replay", ReplayCommand::new);
        SUBCOMMANDS.put("fidelity", FidelityCommand::new);
        SUBCOMMANDS.put("policies", PoliciesCommand::new);
        SUBCOMMANDS.put("model", ModelCommand::new);
        SUBCOMMANDS.put("export", ExportCommand::new);
        SUBCOMMANDS.put("report", ReportCommand::new);
        SUBCOMMANDS.put("hot", HotCommand::new);
        SUBCOMMANDS.put("flame", FlameCommand::new);
        SUBCOMMANDS.put("notebook", NotebookCommand::new);
        SUBCOMMANDS.put("help", CommandLine.HelpCommand::new);
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }

    /** The whole command tree. */
    public static CommandLine commandLine() { return commandLine(new String[0]); }

    /**
     * The command tree that {@code args} needs: the subcommand they name alone, or every one when they name none
     * (help, a top-level option, a typo that picocli should suggest a name for). picocli builds a subcommand's
     * spec by reflection over its options, which for all sixteen took 0.16 s of every command's start.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : null;
        if (first != null && !first.equals("help") && SUBCOMMANDS.containsKey(first)) {
            cl.addSubcommand(first, SUBCOMMANDS.get(first).get());
        } else {
            for (Map.Entry<String, Supplier<Object>> e : SUBCOMMANDS.entrySet()) cl.addSubcommand(e.getKey(), e.getValue().get());
        }
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
        System.exit(commandLine(args).execute(args));
    }
}
