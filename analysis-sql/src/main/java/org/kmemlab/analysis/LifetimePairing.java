package org.kmemlab.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.carrotsearch.hppc.IntArrayList;
import com.carrotsearch.hppc.LongArrayList;
import com.carrotsearch.hppc.LongObjectHashMap;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The pairs of view {@code lifetime_pairs} (views.sql), found in one pass over a trace while it loads instead
 * of by DuckDB's sorted windows: per (kind, address) a stack of allocations not yet freed, and a free takes
 * the top one. The set-wise SQL ({@code lifetime_pairs_sql}) orders each address's events by
 * {@code (ts_ns, seq)}; this pass sees them in {@code seq} order, which is the same order when timestamps
 * never go backwards. A trace whose timestamps do go backwards is {@link #usable() not usable}, and the
 * session keeps the SQL. On the 10M-event report benchmark the SQL pairing took most of the report's time.
 *
 * <p>{@code seq} is the row's position in the session, the column {@link SequencedReader} adds.
 */
final class LifetimePairing {
    /** A free with nothing to pop, or an allocation not yet freed. */
    private static final long NONE = -1;

    private final long offset;
    private long row;
    private long lastTs = Long.MIN_VALUE;
    private boolean sorted = true;

    // per kind, address -> (seq << 1) | (1 when the allocation did not name its cache): the top of its stack
    private final LivePtrMap slabTop = new LivePtrMap(1 << 17), pageTop = new LivePtrMap(1 << 15);
    // the rest of each stack, for the rare address allocated twice without a traced free in between
    private final LongObjectHashMap<LongArrayList> slabBelow = new LongObjectHashMap<>(), pageBelow = new LongObjectHashMap<>();

    final LongArrayList allocSeq = new LongArrayList(), freeSeq = new LongArrayList(), freeTs = new LongArrayList();
    /** The freeing CPU, -1 when the event did not record one. */
    final IntArrayList freeCpu = new IntArrayList();
    /**
     * The free's cache name where the allocation did not name one (kmem_cache_alloc before 6.x, or a kmalloc
     * object freed by kmem_cache_free), else null: the only case where lifetimes' cache comes from the free.
     */
    final ArrayList<String> freeCache = new ArrayList<>();

    /** Pairs the events of one trace whose first row is row {@code offset} of the session's events. */
    LifetimePairing(long offset) { this(offset, Runtime.getRuntime().maxMemory() / 4 / BYTES_PER_PAIR); }

    /**
     * {@code maxPairs}: past this many the pass gives up and the session keeps the SQL, which DuckDB can
     * spill to disk. A quarter of the heap holds about 7M pairs per GiB (a 10M-event trace has 3.2M).
     */
    LifetimePairing(long offset, long maxPairs) {
        this.offset = offset;
        this.maxPairs = maxPairs;
    }

    /** The pair lists' bytes per pair: three longs, an int, a reference. */
    private static final long BYTES_PER_PAIR = 8 * 3 + 4 + 8;
    private final long maxPairs;
    private boolean tooMany;

    void add(StatColumns b) {
        if (tooMany) return;
        if (size() > maxPairs) {
            tooMany = true;
            allocSeq.release();
            freeSeq.release();
            freeTs.release();
            freeCpu.release();
            freeCache.clear();
            freeCache.trimToSize();
            return;
        }
        int[] kind = b.eventKinds();
        long[] ts = b.ts;
        int[] ev = b.event;
        for (int r = 0; r < b.n; r++, row++) {
            long seq = offset + row;
            long t = ts[r];
            if (t < lastTs) sorted = false;
            lastTs = t;
            int e = ev[r];
            if (e < 0) continue;
            switch (kind[e]) {
                case StatColumns.SLAB_ALLOC -> {
                    long ptr = b.ptr[r];
                    // failed allocations (ptr 0) are not lifetimes
                    if (ptr != StatColumns.NO_PTR && ptr != 0) push(slabTop, slabBelow, ptr, seq << 1 | (b.cache[r] < 0 ? 1 : 0));
                }
                case StatColumns.PAGE_ALLOC -> {
                    long pfn = b.pfn[r];
                    if (pfn != StatColumns.NO_PTR) push(pageTop, pageBelow, pfn, seq << 1);
                }
                case StatColumns.SLAB_FREE -> {
                    long ptr = b.ptr[r];
                    if (ptr != StatColumns.NO_PTR && ptr != 0) pop(slabTop, slabBelow, ptr, seq, b, r);
                }
                case StatColumns.PAGE_FREE -> {
                    long pfn = b.pfn[r];
                    if (pfn != StatColumns.NO_PTR) pop(pageTop, pageBelow, pfn, seq, b, r);
                }
                default -> { }
            }
        }
    }

    private static void push(LivePtrMap top, LongObjectHashMap<LongArrayList> below, long addr, long v) {
        long old = top.put(addr, v, NONE);
        if (old != NONE) {
            LongArrayList s = below.get(addr);
            if (s == null) below.put(addr, s = new LongArrayList(2));
            s.add(old);
        }
    }

    private void pop(LivePtrMap top, LongObjectHashMap<LongArrayList> below, long addr, long seq, StatColumns b, int r) {
        long v = top.remove(addr, NONE);
        if (v == NONE) return;
        LongArrayList s = below.get(addr);
        if (s != null) {
            top.put(addr, s.removeLast());
            if (s.isEmpty()) below.remove(addr);
        }
        allocSeq.add(v >>> 1);
        freeSeq.add(seq);
        freeTs.add(b.ts[r]);
        freeCpu.add(b.cpu[r]);
        int c = b.cache[r];
        freeCache.add((v & 1) != 0 && c >= 0 ? b.cacheDict[c] : null);
    }

    /** Whether the pairs equal the SQL's (timestamps never went backwards) and all fitted the heap. */
    boolean usable() { return sorted && !tooMany && size() <= maxPairs; }

    int size() { return allocSeq.size(); }

    /**
     * The pairs of {@code pairings} as Arrow batches with the columns of {@code lifetime_pairs_sql}:
     * alloc_seq, free_seq, free_ts_ns, free_cpu, free_cache. DuckDB loads them through the C data interface.
     */
    static ArrowReader reader(List<LifetimePairing> pairings, BufferAllocator allocator) {
        return new PairsReader(pairings, allocator);
    }

    private static final class PairsReader extends ArrowReader {
        private static final int BATCH = 1 << 16;
        private final List<LifetimePairing> pairings;
        private int which, pos;

        PairsReader(List<LifetimePairing> pairings, BufferAllocator allocator) {
            super(allocator);
            this.pairings = pairings;
        }

        @Override protected Schema readSchema() {
            FieldType i64 = FieldType.notNullable(new ArrowType.Int(64, true));
            return new Schema(List.of(
                    new Field("alloc_seq", i64, null),
                    new Field("free_seq", i64, null),
                    new Field("free_ts_ns", i64, null),
                    Field.nullable("free_cpu", new ArrowType.Int(32, true)),
                    Field.nullable("free_cache", ArrowType.Utf8.INSTANCE)));
        }

        @Override public boolean loadNextBatch() throws IOException {
            while (which < pairings.size() && pos >= pairings.get(which).size()) {
                which++;
                pos = 0;
            }
            VectorSchemaRoot root = getVectorSchemaRoot();
            if (which >= pairings.size()) {
                root.setRowCount(0);
                return false;
            }
            LifetimePairing p = pairings.get(which);
            int n = Math.min(BATCH, p.size() - pos);
            BigIntVector a = (BigIntVector) root.getVector(0),
                    f = (BigIntVector) root.getVector(1), t = (BigIntVector) root.getVector(2);
            IntVector cpu = (IntVector) root.getVector(3);
            VarCharVector cache = (VarCharVector) root.getVector(4);
            a.allocateNew(n);
            f.allocateNew(n);
            t.allocateNew(n);
            cpu.allocateNew(n);
            cache.allocateNew(n);
            int from = pos;
            long[] as = p.allocSeq.buffer, fs = p.freeSeq.buffer, ts = p.freeTs.buffer;
            SequencedReader.fill(a, n, i -> as[from + i]);
            SequencedReader.fill(f, n, i -> fs[from + i]);
            SequencedReader.fill(t, n, i -> ts[from + i]);
            for (int i = 0; i < n; i++) {
                int c = p.freeCpu.get(from + i);
                if (c >= 0) cpu.set(i, c);
                // a null free_cache is the common case: allocateNew leaves every row null
                String s = p.freeCache.get(from + i);
                if (s != null) cache.setSafe(i, s.getBytes(StandardCharsets.UTF_8));
            }
            cpu.setValueCount(n);
            cache.setValueCount(n);
            root.setRowCount(n);
            pos += n;
            return true;
        }

        @Override public long bytesRead() { return 0; }

        @Override protected void closeReadSource() { }
    }
}
