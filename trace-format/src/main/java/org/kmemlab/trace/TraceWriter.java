package org.kmemlab.trace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Writes a kmemlab trace: an Arrow IPC stream of events in batches of {@link #BATCH_ROWS} rows, then a
 * second small stream (the trailer: final counters, call chains, machine snapshot), then a 16-byte tail
 * that locates the trailer. Each batch carries its own dictionaries, so memory stays flat. Because the
 * stream format has no footer, a file cut short at any byte is still readable up to its last whole batch;
 * standard Arrow readers see the event stream alone.
 */
public final class TraceWriter implements EventSink, AutoCloseable {
    public static final int BATCH_ROWS = 65_536;
    /** Ends every complete file: trailer offset (8 bytes LE) then this magic. */
    public static final byte[] TAIL_MAGIC = "KMLTRAIL".getBytes(StandardCharsets.US_ASCII);

    /**
     * zstd level of batch bodies. Level 1 encodes several times faster than Arrow's default (3) for files a
     * little larger; readers decompress any level alike, so the format does not change.
     */
    static final int ZSTD_LEVEL = 1;

    /** Compression of record-batch bodies. */
    public enum Compression { NONE, ZSTD }

    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final VectorSchemaRoot root;
    private final FieldVector[] vectors;
    private final DictColumn[] dicts = new DictColumn[TraceSchema.DICT_COLUMNS.length];
    private int batchStamp;
    private final DictionaryProvider.MapDictionaryProvider provider = new DictionaryProvider.MapDictionaryProvider();
    private final ArrowStreamWriter writer;
    private final ZstdCodec.Factory codecs;
    private final Compression compression;
    private final Map<List<String>, Integer> stackIds = new HashMap<>();
    private final List<List<String>> stacks = new ArrayList<>();
    private final Map<String, String> snapshot = new TreeMap<>();
    private final Map<Integer, Long> lostByCpu = new TreeMap<>();
    private final Map<String, Long> unknown = new TreeMap<>();
    private final Map<String, String> extraMeta = new LinkedHashMap<>();
    private final List<String> malformedSamples = new ArrayList<>();
    /**
     * Fixed-width columns are gathered in plain Java arrays and copied into their vectors' memory once per
     * batch (Arrow's set() checks reference counts, bounds and validity bits per value, and even a direct
     * ByteBuffer's put costs a scoped-memory check per value); validity bits are gathered in long words.
     * An absent value is stored as 0, which is what a zeroed vector holds under a clear validity bit.
     */
    private static final int WORDS = BATCH_ROWS / 64;
    private final long[][] longCols = new long[TraceSchema.NAMES.length][];
    private final int[][] intCols = new int[TraceSchema.NAMES.length][];
    private final long[][] valid = new long[TraceSchema.NAMES.length][];
    private final long[] accountedBits = new long[WORDS];
    private final VarCharVector extraVec;
    private static final int DICT_CACHE = 1024;
    private String lastExtra;
    private byte[] lastExtraBytes;
    /**
     * The extra column's bytes and each row's end offset, copied into the vector once per batch like the
     * fixed-width columns: setNull and setSafe per row checked capacities and filled offset holes one by one.
     */
    private byte[] extraBytes = new byte[1 << 16];
    private int extraLen;
    private final int[] extraEnds = new int[BATCH_ROWS];
    private int rows;
    private long events;
    private long batches;
    private long unparsed;
    private long firstTs = Long.MAX_VALUE;
    private long lastTs = Long.MIN_VALUE;
    private int maxCpu = -1;
    private boolean closed;
    private final Anomalies anomalies = new Anomalies();
    private final String headerNrCpus;

    public TraceWriter(Path path, Map<String, String> header) throws IOException {
        this(path, header, Compression.ZSTD);
    }

    public TraceWriter(Path path, Map<String, String> header, Compression compression) throws IOException {
        this(path, header, compression, ZSTD_LEVEL);
    }

    /**
     * With a chosen zstd level for {@link Compression#ZSTD}: negative levels are zstd's fast modes (live
     * recording trades file size for CPU there); readers decompress every level alike.
     */
    public TraceWriter(Path path, Map<String, String> header, Compression compression, int zstdLevel) throws IOException {
        this.compression = compression;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(TraceSchema.META_VERSION, TraceSchema.VERSION);
        meta.putAll(header);
        headerNrCpus = header.get(TraceSchema.META_NR_CPUS);
        allocator = new RootAllocator();
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Schema schema = TraceSchema.schema(meta);
        root = VectorSchemaRoot.create(schema, allocator);
        vectors = root.getFieldVectors().toArray(new FieldVector[0]);
        VarCharVector[] dictVectors = new VarCharVector[TraceSchema.DICT_COLUMNS.length];
        for (int i = 0; i < TraceSchema.DICT_COLUMNS.length; i++) {
            int c = TraceSchema.DICT_COLUMNS[i];
            Field df = TraceSchema.dictionaryField(c);
            dictVectors[i] = (VarCharVector) df.createVector(allocator);
            provider.put(new Dictionary(dictVectors[i], schema.getFields().get(c).getDictionary()));
        }
        for (FieldVector v : vectors) v.setInitialCapacity(BATCH_ROWS);
        root.allocateNew();
        for (int c = 0; c < vectors.length; c++) {
            valid[c] = new long[WORDS];
            if (c == TraceSchema.EXTRA) continue;
            if (c == TraceSchema.ACCOUNTED) continue;
            if (vectors[c].getDataBuffer().capacity() < (long) BATCH_ROWS * width(c)) {
                throw new IllegalStateException(TraceSchema.NAMES[c] + " holds fewer than a batch");
            }
            if (width(c) == 8) longCols[c] = new long[BATCH_ROWS]; else intCols[c] = new int[BATCH_ROWS];
        }
        for (int i = 0; i < dicts.length; i++) {
            int c = TraceSchema.DICT_COLUMNS[i];
            dicts[i] = new DictColumn(dictVectors[i], intCols[c], valid[c], i == 1);
        }
        extraVec = (VarCharVector) vectors[TraceSchema.EXTRA];
        if (extraVec.getOffsetBuffer().capacity() < 4L * (BATCH_ROWS + 1) || extraVec.getValidityBuffer().capacity() < WORDS * 8L) {
            throw new IllegalStateException("extra holds fewer than a batch");
        }
        codecs = compression == Compression.ZSTD ? new ZstdCodec.Factory(zstdLevel) : null;
        writer = compression == Compression.ZSTD
                ? new ArrowStreamWriter(root, provider, new NonClosingChannel(channel), IpcOption.DEFAULT,
                        codecs, CompressionUtil.CodecType.ZSTD, Optional.of(zstdLevel))
                : new ArrowStreamWriter(root, provider, new NonClosingChannel(channel));
        writer.start();
    }

    /**
     * Events are handed to a second thread in chunks, so that parsing and Arrow encoding use both cores, and from
     * there to a third that counts {@link Anomalies}. The anomaly tables are megabytes of random accesses: on the
     * encoder they were over a third of its samples, and the encoder was the longest thread of an import.
     */
    private static final int CHUNK = 4096;
    private Chunk chunk = new Chunk();
    private int chunkLen;
    private final java.util.concurrent.ArrayBlockingQueue<Object> queue = new java.util.concurrent.ArrayBlockingQueue<>(8);
    private final java.util.concurrent.ArrayBlockingQueue<Object> anomalyQueue = new java.util.concurrent.ArrayBlockingQueue<>(8);
    private final java.util.concurrent.ArrayBlockingQueue<Chunk> free = new java.util.concurrent.ArrayBlockingQueue<>(24);
    private Thread encoder, anomalyCounter;
    private volatile Throwable encoderFailure;
    private static final Object END = new Object();

    /** Events in stream order, and each one's {@link Anomalies#kindOf} as the encoder found it in the name's dictionary slot. */
    private static final class Chunk {
        final TraceEvent[] events = new TraceEvent[CHUNK];
        final int[] kinds = new int[CHUNK];
        int len;

        Chunk() {
            for (int i = 0; i < CHUNK; i++) events[i] = new TraceEvent();
        }
    }

    /** Runs {@code onEncoder} on the encoder, then counts {@code done} down once the anomaly thread has caught up. */
    private record Drain(Runnable onEncoder, java.util.concurrent.CountDownLatch done) {}

    @Override
    public void accept(TraceEvent e) {
        chunk.events[chunkLen++].copyFrom(e);
        events++;
        if (chunkLen == CHUNK) handOff();
    }

    /**
     * {@link #accept} without the copy: the writer keeps {@code e} itself and returns an event object that is
     * the caller's from now on, with undefined content. The text importer's threads hand every event over
     * this way; copying its two dozen fields cost the calling thread a tenth of its time.
     */
    public TraceEvent exchange(TraceEvent e) {
        TraceEvent mine = chunk.events[chunkLen];
        chunk.events[chunkLen++] = e;
        events++;
        if (chunkLen == CHUNK) handOff();
        return mine;
    }

    private void handOff() {
        if (chunkLen == 0) return;
        checkEncoder();
        if (encoder == null) {
            anomalyCounter = new Thread(this::anomalyLoop, "kmemlab-trace-anomalies");
            anomalyCounter.setDaemon(true);
            anomalyCounter.start();
            encoder = new Thread(this::encodeLoop, "kmemlab-trace-encoder");
            encoder.setDaemon(true);
            encoder.start();
        }
        try {
            chunk.len = chunkLen;
            queue.put(chunk);
            Chunk next = free.poll();
            chunk = next != null ? next : new Chunk();
            chunkLen = 0;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the trace", ex);
        }
    }

    private void checkEncoder() {
        Throwable t = encoderFailure;
        if (t instanceof java.io.UncheckedIOException u) throw u;
        if (t != null) throw new IllegalStateException("trace encoder failed: " + t, t);
    }

    private static final int WARM = 256;

    private void encodeLoop() {
        try {
            while (true) {
                Object o = queue.take();
                if (o == END) {
                    anomalyQueue.put(END);
                    return;
                }
                if (o instanceof Drain d) {
                    d.onEncoder().run();
                    anomalyQueue.put(d);
                    continue;
                }
                Chunk c = (Chunk) o;
                TraceEvent[] ev = c.events;
                int[] kinds = c.kinds;
                for (int i = 0, n = c.len; i < n; i++) kinds[i] = encode(ev[i]);
                anomalyQueue.put(c);
            }
        } catch (Throwable t) {
            encoderFailure = t;
            queue.clear();
            // Lets the anomaly thread end; waiting drains see the failure.
            anomalyQueue.clear();
            anomalyQueue.offer(END);
        }
    }

    /**
     * Counts anomalies chunk by chunk in stream order. After a failure here it keeps taking chunks without counting,
     * so that the encoder never blocks on a full queue and the events still reach the file.
     */
    private void anomalyLoop() {
        while (true) {
            Object o;
            try {
                o = anomalyQueue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (o == END) return;
            if (o instanceof Drain d) {
                d.done().countDown();
                continue;
            }
            Chunk c = (Chunk) o;
            if (encoderFailure == null) {
                try {
                    // A few hundred at a time: what a whole chunk warms would be pushed out of the 512 KiB L2
                    // before most of it is used.
                    for (int from = 0; from < c.len; from += WARM) {
                        int to = Math.min(c.len, from + WARM);
                        anomalies.warm(c.events, from, to);
                        for (int i = from; i < to; i++) anomalies.observe(c.events[i], c.kinds[i]);
                    }
                } catch (Throwable t) {
                    encoderFailure = t;
                }
            }
            free.offer(c);
        }
    }

    /**
     * Waits until everything handed off so far is encoded and its anomalies counted (and runs {@code then} on the
     * encoder).
     */
    private void drain(Runnable then) {
        handOff();
        if (encoder == null) {
            then.run();
            return;
        }
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        try {
            queue.put(new Drain(then, done));
            while (!done.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                checkEncoder();
                if (!encoder.isAlive() || !anomalyCounter.isAlive()) break;
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        checkEncoder();
    }

    /** Bytes per value of a fixed-width column (the dictionary-encoded ones hold int32 indices). */
    private static int width(int c) {
        return switch (c) {
            case TraceSchema.TS_NS, TraceSchema.PTR, TraceSchema.BYTES_REQ, TraceSchema.BYTES_ALLOC, TraceSchema.GFP_FLAGS,
                    TraceSchema.PFN -> 8;
            default -> 4;
        };
    }

    /** Returns the event's {@link Anomalies#kindOf}, for the anomaly thread. */
    private int encode(TraceEvent e) {
        int r = rows;
        int w = r >>> 6;
        long bit = 1L << r;
        long f = e.present;
        putLong(TraceSchema.TS_NS, r, w, bit, true, e.tsNs);
        putInt(TraceSchema.CPU, r, w, bit, (f & TraceEvent.F_CPU) != 0, e.cpu);
        putInt(TraceSchema.PID, r, w, bit, (f & TraceEvent.F_PID) != 0, e.pid);
        putInt(TraceSchema.TID, r, w, bit, (f & TraceEvent.F_TID) != 0, e.tid);
        DictColumn[] d = dicts;
        setDict(d[0], r, w, bit, e.comm);
        int[] ev = setDict(d[1], r, w, bit, e.event);
        setDict(d[2], r, w, bit, e.callSite);
        setDict(d[3], r, w, bit, e.callSiteFn);
        putLong(TraceSchema.PTR, r, w, bit, (f & TraceEvent.F_PTR) != 0, e.ptr);
        putLong(TraceSchema.BYTES_REQ, r, w, bit, (f & TraceEvent.F_BYTES_REQ) != 0, e.bytesReq);
        putLong(TraceSchema.BYTES_ALLOC, r, w, bit, (f & TraceEvent.F_BYTES_ALLOC) != 0, e.bytesAlloc);
        putLong(TraceSchema.GFP_FLAGS, r, w, bit, (f & TraceEvent.F_GFP_FLAGS) != 0, e.gfpFlags);
        setDict(d[4], r, w, bit, e.gfp);
        putInt(TraceSchema.NODE, r, w, bit, (f & TraceEvent.F_NODE) != 0, e.node);
        setDict(d[5], r, w, bit, e.cache);
        if ((f & TraceEvent.F_ACCOUNTED) != 0) {
            valid[TraceSchema.ACCOUNTED][w] |= bit;
            if (e.accounted) accountedBits[w] |= bit;
        }
        putLong(TraceSchema.PFN, r, w, bit, (f & TraceEvent.F_PFN) != 0, e.pfn);
        putInt(TraceSchema.ORDER, r, w, bit, (f & TraceEvent.F_ORDER) != 0, e.order);
        putInt(TraceSchema.MIGRATETYPE, r, w, bit, (f & TraceEvent.F_MIGRATETYPE) != 0, e.migratetype);
        setDict(d[6], r, w, bit, e.context);
        putInt(TraceSchema.STACK_ID, r, w, bit, (f & TraceEvent.F_STACK_ID) != 0, e.stackId);
        String x = e.extra;
        if (x != null) {
            if (x != lastExtra) {
                lastExtra = x;
                lastExtraBytes = x.getBytes(StandardCharsets.UTF_8);
            }
            byte[] xb = lastExtraBytes;
            if (extraBytes.length - extraLen < xb.length) {
                extraBytes = java.util.Arrays.copyOf(extraBytes, Math.max(2 * extraBytes.length, extraLen + xb.length));
            }
            System.arraycopy(xb, 0, extraBytes, extraLen, xb.length);
            extraLen += xb.length;
            valid[TraceSchema.EXTRA][w] |= bit;
        }
        extraEnds[r] = extraLen;

        if (e.tsNs < firstTs) firstTs = e.tsNs;
        if (e.tsNs > lastTs) lastTs = e.tsNs;
        if (e.has(TraceEvent.F_CPU) && e.cpu > maxCpu) maxCpu = e.cpu;
        int facts = ev == null ? 0 : ev[2];
        if (e.event != null && (facts & KNOWN) == 0) unknown.merge(e.event, 1L, Long::sum);
        if (++rows == BATCH_ROWS) flushBatch();
        return facts & ~KNOWN;
    }

    /**
     * What the encoder needs to know about an event name is worked out once per distinct name and kept in its
     * dictionary slot (slot[2]): its {@link Anomalies#kindOf} and this bit when {@link EventNames#known}.
     */
    private static final int KNOWN = 1 << 8;

    private static int eventFacts(String ev) {
        return Anomalies.kindOf(ev) | (EventNames.known(ev) ? KNOWN : 0);
    }

    /** A null stores 0 and leaves its validity bit clear, as setNull on a zeroed vector did. */
    private void putInt(int col, int r, int w, long bit, boolean present, int v) {
        if (present) {
            intCols[col][r] = v;
            valid[col][w] |= bit;
        } else {
            intCols[col][r] = 0;
        }
    }

    private void putLong(int col, int r, int w, long bit, boolean present, long v) {
        if (present) {
            longCols[col][r] = v;
            valid[col][w] |= bit;
        } else {
            longCols[col][r] = 0;
        }
    }

    /**
     * One dictionary-encoded column: its batch dictionary, the slot of every distinct value seen (kept across
     * batches), the caches in front of that map, and the column's own index and validity arrays. Everything
     * {@link #setDict} touches for a value hangs off this one object: reached through four parallel arrays of
     * arrays indexed by column, each value cost a chain of dependent loads and bounds checks.
     */
    private static final class DictColumn {
        final VarCharVector vector;
        final HashMap<String, int[]> map = new HashMap<>();
        final String[] cacheKeys = new String[DICT_CACHE];
        final int[][] cacheSlots = new int[DICT_CACHE][];
        final int[] data;
        final long[] valid;
        final boolean events;
        int size;
        String last;
        int[] lastSlot;
        /** last's index in this batch's dictionary, or -1 until it is looked up in this batch. */
        int lastIndex = -1;

        DictColumn(VarCharVector vector, int[] data, long[] valid, boolean events) {
            this.vector = vector;
            this.data = data;
            this.valid = valid;
            this.events = events;
        }
    }

    /** Returns the value's slot: {batch stamp, index in this batch's dictionary, facts (event names only)}; null for null. */
    private int[] setDict(DictColumn d, int r, int w, long bit, String s) {
        if (s == null) {
            d.data[r] = 0;
            return null;
        }
        // Importers intern their strings, so consecutive events mostly carry the very same String object:
        // an identity check against the last one, whose index in this batch is kept, skips everything else.
        if (s == d.last && d.lastIndex >= 0) {
            d.data[r] = d.lastIndex;
            d.valid[w] |= bit;
            return d.lastSlot;
        }
        int[] slot;
        if (s == d.last) {
            slot = d.lastSlot;
        } else {
            // Then a direct-mapped cache by identity (String caches its hash), which the few hundred distinct
            // interned values of a column mostly hit; the map behind it keeps one slot per distinct value, so
            // two equal Strings from different importer threads still share one dictionary entry.
            int ci = s.hashCode() & (DICT_CACHE - 1);
            String[] keys = d.cacheKeys;
            if (keys[ci] == s) {
                slot = d.cacheSlots[ci];
            } else {
                // A string keeps its slot across batches; the stamp says whether it is in this batch's dictionary yet.
                HashMap<String, int[]> m = d.map;
                slot = m.get(s);
                if (slot == null) {
                    if (m.size() > 200_000) {
                        m.clear();
                        // The cache must not hand out slots the map forgot: an equal String would get a second one.
                        java.util.Arrays.fill(keys, null);
                        java.util.Arrays.fill(d.cacheSlots, null);
                    }
                    slot = new int[] {-1, 0, d.events ? eventFacts(s) : 0};
                    m.put(s, slot);
                }
                keys[ci] = s;
                d.cacheSlots[ci] = slot;
            }
            d.last = s;
            d.lastSlot = slot;
        }
        if (slot[0] != batchStamp) {
            slot[0] = batchStamp;
            slot[1] = d.size++;
            d.vector.setSafe(slot[1], s.getBytes(StandardCharsets.UTF_8));
        }
        d.lastIndex = slot[1];
        d.data[r] = slot[1];
        d.valid[w] |= bit;
        return slot;
    }

    /**
     * Distinct call chains kept in memory (and the trailer); beyond this, chains share one marked id so that a
     * crafted or pathological input cannot grow the writer without bound. Frames beyond {@link #MAX_FRAMES}
     * (the kernel's kernel.perf_event_max_stack is 127 by default) are cut with a marker frame.
     */
    static final int MAX_STACKS = 1 << 21, MAX_FRAMES = 1024;
    int maxStacks = MAX_STACKS;
    private int overflowStack = -1;
    private long stacksCollapsed;

    @Override
    public int stack(List<String> frames) {
        if (frames.size() > MAX_FRAMES) {
            List<String> cut = new ArrayList<>(frames.subList(0, MAX_FRAMES));
            cut.add("[kmemlab: " + (frames.size() - MAX_FRAMES) + " more frames cut]");
            frames = cut;
        }
        Integer id = stackIds.get(frames);
        if (id == null && stacks.size() >= maxStacks) {
            if (overflowStack < 0) {
                overflowStack = stacks.size();
                stacks.add(List.of("[kmemlab: more than " + maxStacks + " distinct call chains; the rest share this one]"));
            }
            stacksCollapsed++;
            extraMeta.put("stacks_collapsed", Long.toString(stacksCollapsed));
            return overflowStack;
        }
        if (id == null) {
            List<String> copy = List.copyOf(frames);
            id = stacks.size();
            stacks.add(copy);
            stackIds.put(copy, id);
        }
        return id;
    }

    /** A line or record that could not be parsed; the first few are kept as samples with their position. */
    public void unparsed(String sample) {
        unparsed++;
        if (malformedSamples.size() < 10 && sample != null) malformedSamples.add(sample);
    }

    public void lost(int cpu, long n) { lostByCpu.merge(cpu, n, Long::sum); }

    public void snapshot(String name, String content) { snapshot.put(name, content); }

    /** Metadata learned while importing (kernel release from a perf.data header, nr_cpus, …). */
    public void meta(String key, String value) { extraMeta.put(key, value); }

    public long events() { return events; }
    public long unparsedCount() { return unparsed; }
    public List<String> malformedSamples() { return List.copyOf(malformedSamples); }
    public long lostTotal() { return lostByCpu.values().stream().mapToLong(Long::longValue).sum(); }
    /** Unknown events counted so far (waits for the encoder, which does the counting). */
    public Map<String, Long> unknownEvents() {
        if (!closed) drain(() -> { });
        return Map.copyOf(unknown);
    }

    /**
     * Bad trace semantics counted so far ({@link Anomalies}); CPUs are judged against the nr_cpus the source
     * told late, else the header's, else a snapshot's {@code nr_cpus} file. Waits for the encoder.
     */
    public Map<String, Long> anomalyCounts() {
        if (!closed) drain(() -> { });
        int cpus = Anomalies.parseCpus(extraMeta.get("nr_cpus"));
        if (cpus <= 0) cpus = Anomalies.parseCpus(headerNrCpus);
        if (cpus <= 0) cpus = Anomalies.parseCpus(snapshot.get("nr_cpus"));
        return anomalies.counts(cpus);
    }

    private void flushBatch() {
        if (rows == 0) return;
        try {
            for (DictColumn d : dicts) d.vector.setValueCount(d.size);
            int words = (rows + 63) >>> 6;
            for (int c = 0; c < vectors.length; c++) {
                long[] vw = valid[c];
                if (vw == null) continue;
                ArrowBuf vb = vectors[c].getValidityBuffer();
                for (int i = 0; i < words; i++) vb.setLong(8L * i, vw[i]);
                if (c == TraceSchema.EXTRA) continue;
                ArrowBuf d = vectors[c].getDataBuffer();
                if (longCols[c] != null) {
                    d.nioBuffer(0, rows * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(longCols[c], 0, rows);
                } else if (intCols[c] != null) {
                    d.nioBuffer(0, rows * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(intCols[c], 0, rows);
                }
            }
            ArrowBuf ab = vectors[TraceSchema.ACCOUNTED].getDataBuffer();
            for (int i = 0; i < words; i++) ab.setLong(8L * i, accountedBits[i]);
            // The same buffers as setSafe and setNull per row left: offsets[0] = 0, offsets[r + 1] = the end of row r
            // (a null row ends where the row before it did), data [0, end of the last row).
            ArrowBuf xo = extraVec.getOffsetBuffer();
            xo.setInt(0, 0);
            xo.nioBuffer(4, rows * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(extraEnds, 0, rows);
            if (extraLen > 0) {
                if (extraVec.getDataBuffer().capacity() < extraLen) extraVec.reallocDataBuffer(extraLen);
                extraVec.getDataBuffer().setBytes(0, extraBytes, 0, extraLen);
            }
            extraVec.setLastSet(rows - 1);
            root.setRowCount(rows);
            writer.writeBatch();
            batches++;
            if (channel.position() - syncRequested >= SYNC_BYTES) requestSync();
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        } finally {
            rows = 0;
            extraLen = 0;
            batchStamp++;
            for (DictColumn d : dicts) {
                d.size = 0;
                d.lastIndex = -1;
                d.vector.reset();
            }
            for (FieldVector v : vectors) v.reset();
            for (long[] vw : valid) if (vw != null) java.util.Arrays.fill(vw, 0L);
            java.util.Arrays.fill(accountedBits, 0L);
        }
    }

    /** Writes the last batch, the trailer and the tail. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            drain(this::flushBatch);
            if (encoder != null) {
                queue.put(END);
                encoder.join();
                anomalyCounter.join();
            }
            writer.end();
            long trailerOffset = channel.position();
            writeTrailer();
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putLong(trailerOffset).put(TAIL_MAGIC).flip();
            while (tail.hasRemaining()) channel.write(tail);
            stopSyncer();
            IOException early = syncFailure;
            if (early != null) throw early;
            channel.force(false);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the trace", ex);
        } finally {
            try {
                stopSyncer();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            writer.close();
            if (codecs != null) codecs.close();
            root.close();
            for (DictColumn d : dicts) d.vector.close();
            channel.close();
            allocator.close();
        }
    }

    /** Writes buffered rows as a batch so that a crash after this point keeps them. */
    public void flush() { drain(this::flushBatch); }

    /**
     * close() forces the file to disk before the caller renames it into place. Forcing all of it at the end
     * (tar without zstd: 80 MB, 0.15 s on the developers' disks) is wall time in which nothing else runs, so a
     * daemon thread forces what is written so far every {@link #SYNC_BYTES} while the import goes on, and the
     * last force has little left. A failure there is kept and thrown by close(): Linux reports a failed
     * write-back to one force only, and it must not be the one nobody looks at.
     */
    static final long SYNC_BYTES = 16L << 20;
    private long syncRequested;
    private Thread syncer;
    private final java.util.concurrent.Semaphore syncs = new java.util.concurrent.Semaphore(0);
    private volatile boolean syncStop;
    private volatile IOException syncFailure;
    /** Forces done before close(), for tests. */
    volatile long earlySyncs;

    private void requestSync() throws IOException {
        syncRequested = channel.position();
        if (syncer == null) {
            syncer = new Thread(() -> {
                try {
                    while (true) {
                        syncs.acquire();
                        syncs.drainPermits();
                        if (syncStop) return;
                        channel.force(false);
                        earlySyncs++;
                    }
                } catch (IOException ex) {
                    syncFailure = ex;
                } catch (InterruptedException ex) {
                    // Nothing interrupts it; close() forces in any case.
                }
            }, "kmemlab-trace-sync");
            syncer.setDaemon(true);
            syncer.start();
        }
        syncs.release();
    }

    /** Waits for the sync thread to end, so that no force runs while the channel closes. */
    private void stopSyncer() throws InterruptedException {
        if (syncer == null) return;
        syncStop = true;
        syncs.release();
        syncer.join();
    }

    private void writeTrailer() throws IOException {
        List<String[]> rowsOut = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("events", Long.toString(events));
        meta.put("batches", Long.toString(batches));
        meta.put("unparsed_lines", Long.toString(unparsed));
        meta.put("lost_events", Long.toString(lostTotal()));
        meta.put("unknown_events", Long.toString(unknown.values().stream().mapToLong(Long::longValue).sum()));
        if (events > 0) {
            meta.put("first_ts_ns", Long.toString(firstTs));
            meta.put("last_ts_ns", Long.toString(lastTs));
        }
        meta.put("nr_cpus_seen", Integer.toString(maxCpu + 1));
        meta.put("compression", compression.name().toLowerCase());
        meta.putAll(extraMeta);
        meta.forEach((k, v) -> rowsOut.add(new String[] {TraceInfo.SEC_META, k, v}));
        for (int i = 0; i < stacks.size(); i++) {
            rowsOut.add(new String[] {TraceInfo.SEC_STACK, Integer.toString(i), String.join("\n", stacks.get(i))});
        }
        lostByCpu.forEach((k, v) -> rowsOut.add(new String[] {TraceInfo.SEC_LOST, k.toString(), v.toString()}));
        unknown.forEach((k, v) -> rowsOut.add(new String[] {TraceInfo.SEC_UNKNOWN, k, v.toString()}));
        for (int i = 0; i < malformedSamples.size(); i++) {
            rowsOut.add(new String[] {TraceInfo.SEC_MALFORMED, Integer.toString(i), malformedSamples.get(i)});
        }
        snapshot.forEach((k, v) -> rowsOut.add(new String[] {TraceInfo.SEC_SNAPSHOT, k, v}));
        anomalyCounts().forEach((k, v) -> rowsOut.add(new String[] {TraceInfo.SEC_ANOMALIES, k, v.toString()}));

        Schema ts = new Schema(List.of(
                new Field("section", FieldType.notNullable(ArrowType.Utf8.INSTANCE), null),
                new Field("key", FieldType.notNullable(ArrowType.Utf8.INSTANCE), null),
                new Field("value", FieldType.notNullable(ArrowType.Utf8.INSTANCE), null)),
                Map.of("kmemlab.trailer", TraceSchema.VERSION));
        try (VectorSchemaRoot tr = VectorSchemaRoot.create(ts, allocator);
             ArrowStreamWriter tw = new ArrowStreamWriter(tr, null, new NonClosingChannel(channel))) {
            tw.start();
            int chunk = 4096;
            for (int from = 0; from < rowsOut.size() || from == 0; from += chunk) {
                int to = Math.min(rowsOut.size(), from + chunk);
                tr.allocateNew();
                for (int c = 0; c < 3; c++) {
                    VarCharVector v = (VarCharVector) tr.getVector(c);
                    for (int r = from; r < to; r++) v.setSafe(r - from, rowsOut.get(r)[c].getBytes(StandardCharsets.UTF_8));
                }
                tr.setRowCount(to - from);
                tw.writeBatch();
                if (rowsOut.isEmpty()) break;
            }
            tw.end();
        }
    }

    /** Arrow's writers close their channel; the trace has more to write after each stream. */
    private static final class NonClosingChannel implements WritableByteChannel {
        private final WritableByteChannel delegate;

        NonClosingChannel(WritableByteChannel delegate) { this.delegate = delegate; }

        @Override public int write(ByteBuffer src) throws IOException { return delegate.write(src); }
        @Override public boolean isOpen() { return delegate.isOpen(); }
        @Override public void close() {}
    }

}
