package org.kmemlab.cli.notebook;

import java.util.ArrayList;
import java.util.List;

/** A notebook with the runs of its cells, in order. */
public record NotebookRun(Notebook notebook, List<CellRun> runs) {
    public CellRun runOf(Notebook.Cell c) {
        for (CellRun r : runs) if (r.cell() == c) return r;
        return null;
    }

    public List<CellRun> failedCells() {
        List<CellRun> l = new ArrayList<>();
        for (CellRun r : runs) if (r.failed()) l.add(r);
        return l;
    }

    /** Claims of every verdict cell that do not hold (false or NULL). */
    public List<CellRun.Claim> falseClaims() {
        List<CellRun.Claim> l = new ArrayList<>();
        for (CellRun r : runs) if (r.claims() != null) for (CellRun.Claim c : r.claims()) if (!c.held()) l.add(c);
        return l;
    }

    public int claims() {
        int n = 0;
        for (CellRun r : runs) if (r.claims() != null) n += r.claims().size();
        return n;
    }

    /** Every cell ran without error and every claim holds. */
    public boolean ok() { return failedCells().isEmpty() && falseClaims().isEmpty(); }
}
