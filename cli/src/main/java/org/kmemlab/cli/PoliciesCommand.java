package org.kmemlab.cli;

import java.util.concurrent.Callable;

import org.kmemlab.alloc.policy.PolicyRegistry;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kmemlab policies}: the named policies with one line each, and with --knobs their sub-knobs. */
@Command(name = "policies", mixinStandardHelpOptions = true, description = "List the replay policies.")
public final class PoliciesCommand implements Callable<Integer> {
    @Option(names = "--knobs", description = "Also list every knob with its accepted values.")
    boolean knobs;

    @Override
    public Integer call() {
        System.out.print(PolicyRegistry.describe());
        if (knobs) {
            System.out.println();
            System.out.print(PolicyRegistry.describeKnobs());
        }
        return 0;
    }
}
