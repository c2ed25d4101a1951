package org.kmemlab.cli;

import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.page.MachineBuilder;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.ProcFormat;
import org.kmemlab.alloc.snapshot.MachineSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code kmemlab model show --snapshot DIR [--what buddyinfo|pagetypeinfo|all] [--era ENOW]}: builds the
 * page allocator model from a machine snapshot directory and prints it as /proc files.
 * Register with {@code new CommandLine(new Main()).addSubcommand(new ModelCommand())}.
 */
@Command(name = "model", description = "Inspect the allocator model.", mixinStandardHelpOptions = true,
        subcommands = {ModelCommand.Show.class})
public final class ModelCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** What {@code show} prints. */
    public enum What { buddyinfo, pagetypeinfo, all }

    @Command(name = "show", description = "Build the model from a snapshot and print it as /proc/buddyinfo and /proc/pagetypeinfo.",
            mixinStandardHelpOptions = true)
    public static final class Show implements Callable<Integer> {
        @Option(names = "--snapshot", required = true, paramLabel = "DIR",
                description = "Directory with buddyinfo, pagetypeinfo, zoneinfo, meminfo (with or without .txt).")
        Path snapshot;

        @Option(names = "--what", defaultValue = "all", description = "buddyinfo, pagetypeinfo or all (default: ${DEFAULT-VALUE}).")
        What what;

        @Option(names = "--era", defaultValue = "ENOW", description = "Kernel era of the model (default: ${DEFAULT-VALUE}).")
        KernelEra era;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            if (!Files.isDirectory(snapshot)) {
                spec.commandLine().getErr().println("not a directory: " + snapshot);
                return 2;
            }
            PageAllocator pa = MachineBuilder.fromSnapshot(MachineSnapshot.load(snapshot), era);
            if (what == What.buddyinfo || what == What.all) out.print(ProcFormat.buddyinfo(pa));
            if (what == What.all) out.println();
            if (what == What.pagetypeinfo || what == What.all) out.print(ProcFormat.pagetypeinfo(pa));
            out.flush();
            return 0;
        }
    }
}
