package org.kmemlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.replay.Fidelity;
import org.kmemlab.replay.MultiReplay;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab fidelity trace.arrow}: the baseline model's derived events beside the trace's own. */
@Command(name = "fidelity", mixinStandardHelpOptions = true,
        description = "Replay under baseline and compare the model's derived events with the trace's (ratio model/trace).")
public final class FidelityCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TRACE")
    Path trace;

    @Option(names = {"-o", "--output"}, defaultValue = "out/fidelity", description = "Where the baseline replay is written.")
    Path out;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Knobs, as for replay.")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        SetValues.check(set);
        if (!set.containsKey("era")) {
            // Fidelity compares with the recording kernel, so the model runs that kernel's era by default.
            String era;
            try (org.kmemlab.trace.TraceReader r = new org.kmemlab.trace.TraceReader(trace)) {
                era = eraOf(r.info());
            }
            if (era != null) set.put("era", era);
        }
        System.out.println("baseline replay in era " + set.getOrDefault("era", "of the preset"));
        try {
            Outputs.folder(out, force.force, tmp -> MultiReplay.run(trace, List.of("baseline"), set, tmp, 1));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Fidelity.of(trace, out.resolve("baseline")).print(System.out);
        return 0;
    }

    /** The model era of a trace's kernel release (allocator-model.md §0.2), or null when unknown. */
    static String eraOf(org.kmemlab.trace.TraceInfo info) {
        String rel = info.kernelRelease() != null ? info.kernelRelease() : info.meta.get("kernel_release");
        if (rel == null && info.snapshot.containsKey("kernel-release")) rel = info.snapshot.get("kernel-release").trim();
        if (rel == null) return null;
        String[] p = rel.trim().split("[.\\-+]");
        try {
            int v = Integer.parseInt(p[0]) * 1000 + Integer.parseInt(p[1].replaceAll("\\D.*", ""));
            if (v < 3003) return "E2011";
            if (v < 4011) return "E2012";
            if (v < 5008) return "E2017";
            if (v < 5016) return "E2020";
            if (v < 6000) return "E2022";
            return "ENOW";
        } catch (RuntimeException e) {
            return null;
        }
    }
}
