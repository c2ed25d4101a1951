package org.kmemlab.cli.notebook;

import java.util.List;

/**
 * What running one cell gave: its outputs in order, whether it failed (an error output is among them),
 * and for a verdict cell its claims.
 */
public record CellRun(Notebook.Cell cell, int executionCount, List<Output> outputs, boolean failed, List<Claim> claims) {
    /** One row of a verdict cell; {@code holds} is null when the query gave NULL. */
    public record Claim(String claim, String expected, String measured, Boolean holds) {
        public boolean held() { return Boolean.TRUE.equals(holds); }
    }

    public boolean verdictFails() {
        return claims != null && claims.stream().anyMatch(c -> !c.held());
    }
}
