package org.kmemlab.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.replay.MultiReplay;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab replay trace.arrow --policy A --policy B [--set k=v] -o out/}. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay a trace through the allocator model under one or more policies (see 'kmemlab policies').")
public final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TRACE")
    Path trace;

    @Option(names = {"-p", "--policy"}, description = "A policy (repeatable; default: baseline), or a named variant NAME=POLICY,KEY=VALUE[,KEY=VALUE…] whose knobs win over --set, e.g. -p list=spl-emergency,spl.emergencyIndex=LIST.")
    List<String> policies;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A policy knob, replay.* engine knob or cost.* override (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = {"-o", "--output"}, description = "Output folder; each policy writes out/<policy>/.", defaultValue = "out/replay")
    Path out;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--threads", description = "Policies replayed at once (default: the number of cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws Exception {
        SetValues.check(set);
        List<String> ps = policies == null || policies.isEmpty() ? List.of("baseline") : policies;
        Map<String, Map<String, Object>> res;
        try {
            res = Outputs.folder(out, force.force, tmp -> MultiReplay.run(trace, ps, set, tmp, threads));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        print(System.out, res, out);
        // the same set-up warning from every policy is one line
        java.util.Set<Object> seen = new java.util.LinkedHashSet<>();
        for (Map<String, Object> s : res.values())
            if (s.get("warnings") instanceof List<?> w) seen.addAll(w);
        for (Object w : seen) System.err.println("kmemlab: replay: warning: " + w);
        return 0;
    }

    /** The summary.json numbers of the one-screen comparison, in its column order. */
    private static final String[] COLUMNS = {"requests", "failures", "modeled_ns", "spin_ns", "delay_ns",
            "kvmalloc_vmalloc_fallbacks", "mempool_reserve_used"};

    static void print(PrintStream o, Map<String, Map<String, Object>> res, Path out) {
        o.printf("%-24s %10s %9s %12s %12s %12s %10s %8s  %s%n", "policy", "requests", "failures", "alloc CPU ms",
                "spin ms", "delay ms", "vmalloc", "reserve", "deadlock");
        for (Map.Entry<String, Map<String, Object>> e : res.entrySet()) {
            Map<String, Object> s = e.getValue();
            o.printf("%-24s %10d %9d %12.3f %12.3f %12.3f %10d %8d  %s%n", e.getKey(), num(s, "requests"), num(s, "failures"),
                    num(s, "modeled_ns") / 1e6, num(s, "spin_ns") / 1e6, num(s, "delay_ns") / 1e6,
                    num(s, "kvmalloc_vmalloc_fallbacks"), num(s, "mempool_reserve_used"), s.get("deadlock") == null ? "no" : "YES");
        }
        o.println("results: " + out + "/<policy>/{requests,profile,timeline,events}.arrow, profile.folded, summary.json");
        if (allAlike(res)) {
            // identical rows read like policies that do nothing: say why, and where they do differ
            o.println("Every policy gives the same numbers on this trace: what they change (SPL slab growth, kvmalloc's"
                    + " fallback to vmalloc, mempool reserves, kfree_rcu's block pages, the destruction of RCU caches)");
            o.println("is absent from it or never under pressure. Traces where they differ: kmemlab generate --list,"
                    + " and notebooks/000-004.");
        }
    }

    /** Whether every policy's row of {@link #print} shows the same numbers and none deadlocked. */
    static boolean allAlike(Map<String, Map<String, Object>> res) {
        Map<String, Object> first = null;
        for (Map<String, Object> s : res.values()) {
            if (s.get("deadlock") != null) return false;
            if (first == null) { first = s; continue; }
            for (String k : COLUMNS) if (num(s, k) != num(first, k)) return false;
        }
        return res.size() > 1;
    }

    static long num(Map<String, Object> s, String k) {
        Object v = s.get(k);
        return v instanceof Number n ? n.longValue() : 0;
    }
}
