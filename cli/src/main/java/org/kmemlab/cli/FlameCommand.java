package org.kmemlab.cli;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.hot.FlameGraph;
import org.kmemlab.analysis.hot.Folded;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab flame}: a flamegraph.pl-style SVG, the folded stacks themselves, or a differential flame graph. */
@Command(name = "flame", mixinStandardHelpOptions = true,
        description = "Flame graph SVG of call chains (or --folded text for FlameGraph and speedscope); --diff BASE for a differential graph.")
public final class FlameCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "INPUT", description = "A trace recorded with call chains, or a folded-stack file (*.folded).")
    Path input;

    @Option(names = {"-o", "--output"}, description = "File to write (default: standard output).")
    Path output;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--folded", description = "Write folded stacks instead of an SVG.")
    boolean folded;

    @Option(names = "--diff", paramLabel = "BASE", description = "Colour by the change from BASE (red grew, blue shrank); widths come from INPUT.")
    Path diff;

    @Option(names = {"-n", "--normalize"}, description = "With --diff: scale BASE to INPUT's total first.")
    boolean normalize;

    @Option(names = "--weight", description = "count or bytes.", defaultValue = "count")
    String weight;

    @Option(names = "--event", description = "Only this event, e.g. kmem:kmalloc.")
    String event;

    @Option(names = "--title", description = "Title of the graph.")
    String title;

    @Override
    public Integer call() throws Exception {
        Folded.Weight w = HotInputs.weight(weight);
        Map<String, Long> prof = HotInputs.load(input, w, event);
        String unit = HotInputs.isFolded(input) ? "samples" : (w == Folded.Weight.BYTES ? "bytes" : "events");
        if (folded && diff != null) throw new UserError("--folded and --diff do not go together");
        if (output != null) {
            Outputs.file(output, force.force, tmp -> { write(prof, unit, w, Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)); return null; });
            System.err.println("kmemlab: wrote " + output);
            return 0;
        }
        write(prof, unit, w, new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        return 0;
    }

    private void write(Map<String, Long> prof, String unit, Folded.Weight w, Writer out) throws Exception {
        try {
            if (folded) {
                Folded.write(prof, out);
            } else if (diff != null) {
                Map<String, Long> base = HotInputs.load(diff, w, event);
                out.write(FlameGraph.diff(base, prof, normalize,
                        title != null ? title : "Differential flame graph: " + input.getFileName() + " against " + diff.getFileName(), unit));
            } else {
                out.write(FlameGraph.svg(prof, title != null ? title : "Flame graph: " + input.getFileName(), unit));
            }
        } finally {
            if (output == null) out.flush(); else out.close();
        }
    }
}
