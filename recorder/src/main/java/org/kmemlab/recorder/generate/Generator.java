package org.kmemlab.recorder.generate;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

/**
 * {@code kmemlab generate}: runs a scenario with a seed and writes its events as a kmemlab trace
 * (source_format {@code generated}, with replay hints, scenario name and parameters in the schema
 * metadata and the machine snapshot in the trailer) or as {@code perf script} text. The same scenario,
 * parameters and seed give a byte-identical file.
 */
public final class Generator {
    private Generator() {}

    public static final List<Scenario> SCENARIOS = List.of(new XfsCilCommit(), new SplWriteback(), new BtrfsExtentState(),
            new KfreeRcuStorm(), new CgroupChurn());

    public enum Format { ARROW, PERF_SCRIPT }

    /** What a run wrote. */
    public record Result(long events, Map<String, String> header) {}

    public static Scenario byName(String name) {
        for (Scenario s : SCENARIOS) if (s.name().equals(name)) return s;
        throw new IllegalArgumentException("unknown scenario '" + name + "'; scenarios: "
                + String.join(", ", SCENARIOS.stream().map(Scenario::name).toList()));
    }

    /** The scenario list with parameters and defaults, for {@code --list}. */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        for (Scenario s : SCENARIOS) {
            sb.append(s.name()).append(": ").append(s.description()).append('\n');
            for (Param p : s.params()) sb.append(String.format("    %-18s %-12s %s%n", p.key(), p.defaultValue(), p.description()));
        }
        return sb.toString();
    }

    /** Prepares the scenario's actors and metadata; nothing is written yet. */
    static Gen prepare(Scenario s, Map<String, String> set, long seed) {
        ScenarioParams p = new ScenarioParams(s, set);
        Gen g = new Gen(seed, p.str("kernel"));
        g.meta(TraceSchema.META_SOURCE_FORMAT, "generated");
        g.meta(TraceSchema.META_SOURCE, "kmemlab generate " + s.name() + " --seed " + seed);
        g.meta(TraceSchema.META_KERNEL_RELEASE, p.str("kernel"));
        g.meta("kmemlab.scenario", s.name());
        g.meta("kmemlab.scenario.params", p.describe() + " seed=" + seed);
        s.generate(p, g);
        return g;
    }

    public static Result generate(String scenario, Map<String, String> set, long seed, Path out, Format format) throws IOException {
        Scenario s = byName(scenario);
        Gen g = prepare(s, set, seed);
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        boolean ok = false;
        long[] n = {0};
        try {
            if (format == Format.ARROW) {
                try (TraceWriter w = new TraceWriter(tmp, new LinkedHashMap<>(g.header))) {
                    w.meta("gfp_layout", g.gfp.layout().name());
                    g.snapshot.forEach(w::snapshot);
                    g.run((e, chain) -> {
                        if (chain != null) e.stackId(w.stack(chain));
                        w.accept(e);
                        n[0]++;
                    });
                }
            } else {
                int cpus = Integer.parseInt(g.header.getOrDefault(TraceSchema.META_NR_CPUS, "1"));
                try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(tmp), StandardCharsets.UTF_8), 1 << 16)) {
                    PerfScriptText text = new PerfScriptText(w, g.kernel, cpus);
                    g.run((e, chain) -> {
                        text.accept(e, chain);
                        n[0]++;
                    });
                }
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            ok = true;
            return new Result(n[0], Map.copyOf(g.header));
        } finally {
            if (!ok) Files.deleteIfExists(tmp);
        }
    }

    /** The events a scenario produces, in order, without writing them (tests compute expectations from these). */
    public static List<TraceEvent> events(String scenario, Map<String, String> set, long seed) throws IOException {
        Gen g = prepare(byName(scenario), set, seed);
        List<TraceEvent> l = new java.util.ArrayList<>();
        g.run((e, chain) -> l.add(e));
        return l;
    }
}
