package org.kmemlab.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** Placeholder replaced below. */
@Command(name = "demo", hidden = true)
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() { throw new UserError("demo: not built yet"); }
}
