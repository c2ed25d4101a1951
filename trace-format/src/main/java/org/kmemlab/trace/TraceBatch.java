package org.kmemlab.trace;

import java.nio.charset.StandardCharsets;

import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * One record batch of a trace with typed, allocation-free accessors. Dictionary columns are decoded once
 * per batch into string arrays, so reading a string cell is an array lookup.
 */
public final class TraceBatch {
    private final VectorSchemaRoot root;
    private final FieldVector[] v;
    private final String[][] dicts;

    TraceBatch(VectorSchemaRoot root, String[][] dicts) {
        this.root = root;
        this.v = root.getFieldVectors().toArray(new FieldVector[0]);
        this.dicts = dicts;
    }

    public int size() { return root.getRowCount(); }

    public VectorSchemaRoot root() { return root; }

    public boolean isNull(int col, int row) { return v[col].isNull(row); }

    public long getLong(int col, int row) { return ((BigIntVector) v[col]).get(row); }

    public int getInt(int col, int row) { return ((IntVector) v[col]).get(row); }

    public long ts(int row) { return ((BigIntVector) v[TraceSchema.TS_NS]).get(row); }

    /** A dictionary or plain string cell; null when absent. */
    public String getString(int col, int row) {
        FieldVector fv = v[col];
        if (fv.isNull(row)) return null;
        long id = TraceSchema.dictionaryId(col);
        if (id >= 0) return dicts[(int) id][((IntVector) fv).get(row)];
        return new String(((VarCharVector) fv).get(row), StandardCharsets.UTF_8);
    }

    /** The dictionary index of a dictionary cell (stable within this batch only), or -1 when null. */
    public int dictIndex(int col, int row) {
        IntVector iv = (IntVector) v[col];
        return iv.isNull(row) ? -1 : iv.get(row);
    }

    /** The decoded dictionary of a dictionary column for this batch. */
    public String[] dictionary(int col) { return dicts[(int) TraceSchema.dictionaryId(col)]; }

    /** Fills {@code e} from row {@code row}. */
    public void read(int row, TraceEvent e) {
        e.clear();
        e.ts(ts(row));
        if (!isNull(TraceSchema.CPU, row)) e.cpu(getInt(TraceSchema.CPU, row));
        if (!isNull(TraceSchema.PID, row)) e.pid(getInt(TraceSchema.PID, row));
        if (!isNull(TraceSchema.TID, row)) e.tid(getInt(TraceSchema.TID, row));
        e.comm = getString(TraceSchema.COMM, row);
        e.event = getString(TraceSchema.EVENT, row);
        e.callSite = getString(TraceSchema.CALL_SITE, row);
        e.callSiteFn = getString(TraceSchema.CALL_SITE_FN, row);
        if (!isNull(TraceSchema.PTR, row)) e.ptr(getLong(TraceSchema.PTR, row));
        if (!isNull(TraceSchema.BYTES_REQ, row)) e.bytesReq(getLong(TraceSchema.BYTES_REQ, row));
        if (!isNull(TraceSchema.BYTES_ALLOC, row)) e.bytesAlloc(getLong(TraceSchema.BYTES_ALLOC, row));
        if (!isNull(TraceSchema.GFP_FLAGS, row)) e.gfpFlags(getLong(TraceSchema.GFP_FLAGS, row));
        e.gfp = getString(TraceSchema.GFP, row);
        if (!isNull(TraceSchema.NODE, row)) e.node(getInt(TraceSchema.NODE, row));
        e.cache = getString(TraceSchema.CACHE, row);
        BitVector acc = (BitVector) v[TraceSchema.ACCOUNTED];
        if (!acc.isNull(row)) e.accounted(acc.get(row) != 0);
        if (!isNull(TraceSchema.PFN, row)) e.pfn(getLong(TraceSchema.PFN, row));
        if (!isNull(TraceSchema.ORDER, row)) e.order(getInt(TraceSchema.ORDER, row));
        if (!isNull(TraceSchema.MIGRATETYPE, row)) e.migratetype(getInt(TraceSchema.MIGRATETYPE, row));
        e.context = getString(TraceSchema.CONTEXT, row);
        if (!isNull(TraceSchema.STACK_ID, row)) e.stackId(getInt(TraceSchema.STACK_ID, row));
        e.extra = getString(TraceSchema.EXTRA, row);
    }
}
