package org.kmemlab.cli;

import java.util.concurrent.Callable;

import org.kmemlab.alloc.policy.CostNames;
import org.kmemlab.alloc.policy.PolicyRegistry;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kmemlab policies}: the named policies with one line each, with --knobs their sub-knobs, with --costs the modeled costs. */
@Command(name = "policies", mixinStandardHelpOptions = true, description = "List the replay policies.")
public final class PoliciesCommand implements Callable<Integer> {
    @Option(names = "--knobs", description = "Also list every knob with its accepted values.")
    boolean knobs;

    @Option(names = "--costs", description = "Also list every modeled cost (ns) with where its default comes from; override with --set cost.NAME=NS.")
    boolean costs;

    @Override
    public Integer call() {
        System.out.print(PolicyRegistry.describe());
        if (knobs) {
            System.out.println();
            System.out.print(PolicyRegistry.describeKnobs());
        }
        if (costs) {
            System.out.println();
            CostNames.all().values().forEach(e -> System.out.printf("cost.%-40s %8d ns  %s%n", e.name(), e.defaultNs(), e.source()));
        }
        return 0;
    }
}
