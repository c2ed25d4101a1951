package org.kmemlab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.kmemlab.cli.notebook.CellRun;
import org.kmemlab.cli.notebook.HtmlNotebook;
import org.kmemlab.cli.notebook.Ipynb;
import org.kmemlab.cli.notebook.Notebook;
import org.kmemlab.cli.notebook.NotebookParser;
import org.kmemlab.cli.notebook.NotebookRun;
import org.kmemlab.cli.notebook.NotebookRunner;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kmemlab notebook run X.md [-o DIR]}: executes a notebook (notebooks/README.md) and writes
 * DIR/X.html and DIR/X.ipynb with the outputs in place. Exit status 0 when every cell ran and every
 * verdict claim holds, {@link #EXIT_FAILED} otherwise (after writing both files), 2 for a mistake in the
 * notebook file itself (one line naming it and the line).
 */
@Command(name = "notebook", mixinStandardHelpOptions = true, subcommands = {NotebookCommand.Run.class},
        description = "Executable notebooks: Markdown with sql, chart, kmemlab and verdict cells.")
public final class NotebookCommand implements Runnable {
    /** A cell failed or a verdict claim does not hold. */
    public static final int EXIT_FAILED = 3;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run a notebook's cells in order; write NAME.html and NAME.ipynb with their outputs.")
    static final class Run implements Callable<Integer> {
        @Parameters(paramLabel = "NOTEBOOK", description = "A notebook, e.g. notebooks/real-trace-tour.md.")
        Path notebook;

        @Option(names = {"-o", "--output"}, description = "Output folder; paths in cells are relative to it (default: out/NAME).")
        Path out;

        @picocli.CommandLine.Mixin
        Outputs.Force force = new Outputs.Force();

        @Override
        public Integer call() throws Exception {
            Notebook nb = NotebookParser.parse(notebook);
            Path dir = out != null ? out : Path.of("out", nb.name());
            Path html = dir.resolve(nb.name() + ".html"), ipynb = dir.resolve(nb.name() + ".ipynb");
            // A finished run's outputs are kept unless --force; once a run may go ahead, it owns its folder.
            Outputs.refuseExisting(html, force.force);
            Outputs.refuseExisting(ipynb, force.force);
            NotebookRunner runner = new NotebookRunner(dir, Main::commandLine, d -> DemoCommand.importTrace(d).output(), System.err);
            NotebookRun run = Outputs.owning(dir, () -> runner.run(nb));
            Files.createDirectories(dir);
            Outputs.file(html, true, tmp -> {
                HtmlNotebook.write(run, tmp);
                return null;
            });
            Outputs.file(ipynb, true, tmp -> {
                Ipynb.write(run, tmp);
                return null;
            });
            System.out.println("notebook: " + html);
            System.out.println("notebook: " + ipynb);
            if (run.ok()) {
                System.out.println("notebook: " + run.runs().size() + " cells ran, " + run.claims() + " claims hold");
                return 0;
            }
            for (CellRun r : run.failedCells()) {
                System.err.println("kmemlab: " + notebook + ":" + r.cell().line() + ": the " + r.cell().kind().fence() + " cell failed");
            }
            for (CellRun.Claim c : run.falseClaims()) {
                System.err.println("kmemlab: " + notebook + ": claim does not hold: " + c.claim() + " (expected " + c.expected() + ", measured " + c.measured() + ")");
            }
            return EXIT_FAILED;
        }
    }
}
