package org.kmemlab.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** Placeholder replaced below. */
@Command(name = "sql", hidden = true)
public final class SqlCommand implements Callable<Integer> {
    @Override
    public Integer call() { throw new UserError("sql: not built yet"); }
}
