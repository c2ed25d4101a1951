package org.kmemlab.trace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * One record batch of a trace with typed, allocation-free accessors, valid until the reader's next
 * {@code next()}.
 *
 * <p>Cells are read straight from the vectors' memory through ByteBuffer views: Arrow's own getters check
 * reference counts and bounds and go through the validity helper on every call, which made decoding a row
 * cost more than replaying it. A dictionary column is decoded when it is first asked for, once per batch,
 * and its strings are interned across the reader's batches (the same call site is the same String object
 * in every batch), so a reader that never looks at {@code call_site} never decodes it. {@code extra} is a
 * plain string column; a row whose bytes equal a recent row's gets that row's String.
 */
public final class TraceBatch {
    /** The dictionary id of each column, -1 for plain columns (TraceSchema.dictionaryId, as a table). */
    private static final byte[] DICT_ID = new byte[TraceSchema.NAMES.length];
    static {
        for (int c = 0; c < DICT_ID.length; c++) DICT_ID[c] = (byte) TraceSchema.dictionaryId(c);
    }

    private final VectorSchemaRoot root;
    private final FieldVector[] v;
    private final int rows;
    private final ByteBuffer[] data;
    private final ByteBuffer[] valid;
    private final VarCharVector[] dictVectors;
    private final String[][] dicts;
    private final Map<String, String> intern;
    private final ByteBuffer extraOffsets;
    private final ByteBuffer extraData;
    /** A small direct-mapped cache of extra strings by their bytes' hash. */
    private final String[] extraCache = new String[64];
    private final byte[][] extraCacheBytes = new byte[64][];
    private byte[] scratch = new byte[64];

    TraceBatch(VectorSchemaRoot root, VarCharVector[] dictVectors, Map<String, String> intern) {
        this.root = root;
        this.v = root.getFieldVectors().toArray(new FieldVector[0]);
        this.rows = root.getRowCount();
        this.dictVectors = dictVectors;
        this.dicts = new String[dictVectors.length][];
        this.intern = intern;
        data = new ByteBuffer[v.length];
        valid = new ByteBuffer[v.length];
        for (int c = 0; c < v.length; c++) {
            valid[c] = view(v[c].getValidityBuffer());
            if (c != TraceSchema.EXTRA) data[c] = view(v[c].getDataBuffer());
        }
        VarCharVector x = (VarCharVector) v[TraceSchema.EXTRA];
        extraOffsets = view(x.getOffsetBuffer());
        extraData = view(x.getDataBuffer());
    }

    private static ByteBuffer view(ArrowBuf b) {
        long cap = b == null ? 0 : b.capacity();
        if (cap == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        return b.nioBuffer(0, (int) cap).order(ByteOrder.LITTLE_ENDIAN);
    }

    public int size() { return rows; }

    public VectorSchemaRoot root() { return root; }

    public boolean isNull(int col, int row) { return (valid[col].get(row >>> 3) & (1 << (row & 7))) == 0; }

    public long getLong(int col, int row) { return data[col].getLong(row << 3); }

    public int getInt(int col, int row) { return data[col].getInt(row << 2); }

    /** The cell, or {@code absent} when it is null (what a {@link TraceEvent} filled by {@link #read} holds then is 0). */
    public long longOr(int col, int row, long absent) { return isNull(col, row) ? absent : getLong(col, row); }

    public int intOr(int col, int row, int absent) { return isNull(col, row) ? absent : getInt(col, row); }

    public long ts(int row) { return data[TraceSchema.TS_NS].getLong(row << 3); }

    /**
     * Copies the first {@link #size()} cells of a 64-bit column into {@code dst}, {@code absent} where a
     * cell is null: a bulk copy of the data buffer, then the nulls patched from the validity bytes, so that a
     * consumer on another thread reads plain arrays after the batch is gone.
     */
    public void copyLongs(int col, long absent, long[] dst) {
        data[col].duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(0, dst, 0, rows);
        forEachNull(col, r -> dst[r] = absent);
    }

    /** {@link #copyLongs} for a 32-bit column (a dictionary column copies its indices). */
    public void copyInts(int col, int absent, int[] dst) {
        data[col].duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(0, dst, 0, rows);
        forEachNull(col, r -> dst[r] = absent);
    }

    /** The null rows of {@code col}, from its validity bytes (8 all-valid bytes, 64 rows, are skipped with one read). */
    private void forEachNull(int col, java.util.function.IntConsumer row) {
        ByteBuffer vb = valid[col];
        int bytes = (rows + 7) >>> 3, i = 0;
        // 64 rows at a time: most columns of a trace are null nowhere or everywhere in a stretch, and a
        // ByteBuffer read costs a call under C1 (`kmemlab stat` runs on C1)
        for (; i + 8 <= bytes; i += 8) if (vb.getLong(i) != -1L) nullsIn(vb, i, i + 8, row);
        nullsIn(vb, i, bytes, row);
    }

    private void nullsIn(ByteBuffer vb, int from, int to, java.util.function.IntConsumer row) {
        for (int i = from; i < to; i++) {
            int b = vb.get(i) & 0xff;
            if (b == 0xff) continue;
            for (int k = 0, r = i << 3; k < 8 && r < rows; k++, r++) if ((b & (1 << k)) == 0) row.accept(r);
        }
    }

    /** A dictionary or plain string cell; null when absent. */
    public String getString(int col, int row) {
        if (isNull(col, row)) return null;
        byte id = DICT_ID[col];
        if (id >= 0) return dict(id)[getInt(col, row)];
        if (col == TraceSchema.EXTRA) return extra(row);
        return new String(((VarCharVector) v[col]).get(row), StandardCharsets.UTF_8);
    }

    /** The dictionary index of a dictionary cell (stable within this batch only), or -1 when null. */
    public int dictIndex(int col, int row) { return isNull(col, row) ? -1 : getInt(col, row); }

    /** The decoded dictionary of a dictionary column for this batch. */
    public String[] dictionary(int col) { return dict(DICT_ID[col]); }

    private String[] dict(byte id) {
        String[] d = dicts[id];
        if (d == null) {
            VarCharVector vv = dictVectors[id];
            d = new String[vv.getValueCount()];
            for (int k = 0; k < d.length; k++) {
                String s = new String(vv.get(k), StandardCharsets.UTF_8);
                String was = intern.putIfAbsent(s, s);
                d[k] = was != null ? was : s;
            }
            if (intern.size() > 100_000) intern.clear();
            dicts[id] = d;
        }
        return d;
    }

    private String extra(int row) {
        int from = extraOffsets.getInt(row << 2);
        int to = extraOffsets.getInt((row + 1) << 2);
        int len = to - from;
        if (scratch.length < len) scratch = new byte[Math.max(len, 2 * scratch.length)];
        extraData.get(from, scratch, 0, len);
        int h = 1;
        for (int i = 0; i < len; i++) h = 31 * h + scratch[i];
        int slot = (h ^ (h >>> 7)) & (extraCache.length - 1);
        byte[] was = extraCacheBytes[slot];
        if (was != null && Arrays.equals(was, 0, was.length, scratch, 0, len)) return extraCache[slot];
        byte[] b = Arrays.copyOf(scratch, len);
        String s = new String(b, StandardCharsets.UTF_8);
        extraCacheBytes[slot] = b;
        extraCache[slot] = s;
        return s;
    }

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
        if (!isNull(TraceSchema.ACCOUNTED, row)) e.accounted((data[TraceSchema.ACCOUNTED].get(row >>> 3) & (1 << (row & 7))) != 0);
        if (!isNull(TraceSchema.PFN, row)) e.pfn(getLong(TraceSchema.PFN, row));
        if (!isNull(TraceSchema.ORDER, row)) e.order(getInt(TraceSchema.ORDER, row));
        if (!isNull(TraceSchema.MIGRATETYPE, row)) e.migratetype(getInt(TraceSchema.MIGRATETYPE, row));
        e.context = getString(TraceSchema.CONTEXT, row);
        if (!isNull(TraceSchema.STACK_ID, row)) e.stackId(getInt(TraceSchema.STACK_ID, row));
        e.extra = getString(TraceSchema.EXTRA, row);
    }
}
