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

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Knobs, as for replay.")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws IOException {
        try {
            MultiReplay.run(trace, List.of("baseline"), set, out, 1);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Fidelity.of(trace, out.resolve("baseline")).print(System.out);
        return 0;
    }
}
