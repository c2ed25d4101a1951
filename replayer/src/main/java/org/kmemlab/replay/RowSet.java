package org.kmemlab.replay;

import java.util.Arrays;

import com.carrotsearch.hppc.LongArrayList;

/**
 * A set of trace row numbers, asked about in increasing row order: a sorted array and a cursor, so that a
 * question costs a comparison (not a hash lookup per event) and an entry eight bytes.
 */
final class RowSet {
    private final long[] rows;
    private int next;

    RowSet(LongArrayList rows) {
        this.rows = rows.toArray();
        Arrays.sort(this.rows);
    }

    private RowSet(long[] sorted) { this.rows = sorted; }

    /** The same rows with a cursor of its own at the start: for another replay of the same trace. */
    RowSet fresh() { return new RowSet(rows); }

    /** Whether {@code row} is in the set; rows must be asked in non-decreasing order. */
    boolean contains(long row) {
        while (next < rows.length && rows[next] < row) next++;
        return next < rows.length && rows[next] == row;
    }

    int size() { return rows.length; }
}
