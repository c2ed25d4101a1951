package org.kmemlab.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.recorder.generate.Generator;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab generate SCENARIO [--set key=value]... [--seed N] -o trace.arrow|trace.txt}. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Write a seeded synthetic trace of one of the seed scenarios (see --list), with the replay hints that reproduce it.")
public final class GenerateCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "SCENARIO", description = "The scenario (kmemlab generate --list).")
    String scenario;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--list", description = "List the scenarios with their parameters and defaults.")
    boolean list;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A scenario parameter (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}); the same seed and parameters give the same file.",
            defaultValue = "1")
    long seed;

    @Option(names = {"-o", "--output"}, description = "The file to write.")
    Path output;

    @Option(names = "--format", paramLabel = "arrow|perf-script",
            description = "Output format; default: perf-script for a .txt output, else arrow.")
    String format;

    @Override
    public Integer call() throws Exception {
        if (list) {
            System.out.print(Generator.describe());
            return 0;
        }
        if (scenario == null) throw new UserError("generate: name a scenario (" + names() + ") or use --list");
        if (output == null) throw new UserError("generate: -o FILE is required");
        Generator.Format f;
        String fmt = format != null ? format : output.getFileName().toString().endsWith(".txt") ? "perf-script" : "arrow";
        switch (fmt) {
            case "arrow" -> f = Generator.Format.ARROW;
            case "perf-script" -> f = Generator.Format.PERF_SCRIPT;
            default -> throw new UserError("generate: --format " + fmt + " is not one of arrow, perf-script");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) throw new UserError(output + ": folder " + parent + " does not exist");
        long t0 = System.nanoTime();
        Generator.Result r;
        try {
            r = Outputs.file(output, force.force, tmp -> Generator.generate(scenario, set, seed, tmp, f));
        } catch (IllegalArgumentException e) {
            throw new UserError("generate: " + e.getMessage());
        }
        System.out.printf("generated %,d events (%s, seed %d) in %.2f s -> %s%n", r.events(), scenario, seed,
                (System.nanoTime() - t0) / 1e9, output);
        return 0;
    }

    private static String names() {
        return String.join(", ", Generator.SCENARIOS.stream().map(s -> s.name()).toList());
    }
}
