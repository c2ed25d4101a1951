package org.kmemlab.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.hot.HotTree;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab hot}: a perf report --children --stdio style tree of a trace's call chains or a folded profile. */
@Command(name = "hot", mixinStandardHelpOptions = true,
        description = "Hot-path tree (Children %% and Self %%, indented call graph) of call chains, like perf report --children.")
public final class HotCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "INPUT", description = "A trace recorded with call chains, or a folded-stack file (*.folded).")
    Path input;

    @Option(names = "--weight", description = "Weigh chains by event count or bytes allocated: count or bytes.", defaultValue = "count")
    String weight;

    @Option(names = "--event", description = "Only this event, e.g. kmem:kmalloc.")
    String event;

    @Option(names = {"-s", "--sort"}, description = "children, self or symbol.", defaultValue = "children")
    String sort;

    @Option(names = "--percent-limit", description = "Hide entries below this percent.", defaultValue = "0")
    double percentLimit;

    @Option(names = {"-g", "--call-graph"}, description = "caller (what each symbol calls), callee (who calls it), or none.", defaultValue = "caller")
    String graph;

    @Option(names = "--graph-limit", description = "Hide call-graph branches below this percent of the total.", defaultValue = "0.5")
    double graphLimit;

    @Option(names = {"-l", "--limit"}, description = "At most this many entries (0 = all).", defaultValue = "0")
    int limit;

    @Override
    public Integer call() throws Exception {
        HotTree.Options o = new HotTree.Options();
        try {
            o.sort = HotTree.Sort.valueOf(sort.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--sort must be children, self or symbol, not '" + sort + "'");
        }
        switch (graph) {
            case "caller" -> o.order = HotTree.Order.CALLER;
            case "callee" -> o.order = HotTree.Order.CALLEE;
            case "none" -> o.callGraph = false;
            default -> throw new UserError("--call-graph must be caller, callee or none, not '" + graph + "'");
        }
        if (percentLimit < 0 || graphLimit < 0 || limit < 0) throw new UserError("limits must not be negative");
        o.percentLimit = percentLimit;
        o.graphLimit = graphLimit;
        o.limit = limit;
        Map<String, Long> folded = HotInputs.load(input, HotInputs.weight(weight), event);
        String unit = HotInputs.isFolded(input) ? "samples" : (HotInputs.weight(weight) == org.kmemlab.analysis.hot.Folded.Weight.BYTES ? "bytes" : "events");
        System.out.print(new HotTree(folded).render(o, unit));
        return 0;
    }
}
