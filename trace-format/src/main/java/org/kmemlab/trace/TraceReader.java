package org.kmemlab.trace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.arrow.flatbuf.DictionaryBatch;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.ValueVectorUtility;

/**
 * Reads a kmemlab trace written by {@link TraceWriter}. Before Arrow sees a byte, the message framing is
 * scanned and every declared length is checked against the file, so a crafted or truncated file yields
 * either its readable prefix or an {@link InputError} — never an attempt to allocate what the file does
 * not hold. A file cut short is read up to its last whole batch.
 */
public final class TraceReader implements AutoCloseable {
    private static final int MAX_METADATA = 16 << 20;
    /**
     * What Arrow may hold at once while decoding (one batch with its dictionaries). A compressed buffer
     * declares its own decompressed length; the limit turns a crafted one into a refused batch instead of
     * an allocation of exabytes. kmemlab's batches of 65,536 rows take a few tens of MiB.
     */
    static final long MAX_DECODED = 512L << 20;

    private static final Schema EXPECTED = TraceSchema.schema(Map.of());

    private final Path path;
    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final ArrowStreamReader reader;
    /** Keeps the zstd contexts for this reader's batches (see {@link ZstdCodec}). */
    private final ZstdCodec.Factory codecs = new ZstdCodec.Factory();
    private final TraceInfo info;
    /** Dictionary strings by value, so that every batch hands out the same String objects. */
    private final Map<String, String> intern = new java.util.HashMap<>();
    private TraceBatch batch;
    private long rowsRead;
    private long batchesRead;
    /** Arrow failed on a batch; it may then hold a few buffers of that batch it never releases. */
    private boolean badBatch;
    private boolean ended;

    public TraceReader(Path path) throws IOException {
        this.path = path;
        if (Files.isDirectory(path)) throw InputError.of(path, "is a directory, expected a kmemlab trace file");
        if (!Files.isReadable(path)) throw InputError.of(path, "cannot be read");
        this.info = readInfo(path);
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        long end = info.complete ? Long.parseLong(info.meta.getOrDefault("_trailer_offset", "-1")) : channel.size();
        Scan scan = scan(channel, 0, end, path);
        if (scan.messages == 0) {
            channel.close();
            if (scan.deepSchema) {
                throw InputError.atOffset(path, 0, "expected a kmemlab trace schema: its fields are nested deeper than " + MAX_FIELD_DEPTH
                        + " levels or number more than " + MAX_FIELDS);
            }
            throw InputError.atOffset(path, 0, "expected an Arrow IPC stream (a kmemlab trace); found no schema message");
        }
        if (!scan.eos && info.truncationReason == null) {
            info.truncationReason = "file ends inside the event stream at byte " + scan.validEnd;
        }
        this.allocator = new RootAllocator(MAX_DECODED);
        this.reader = new ArrowStreamReader(new BoundedChannel(channel, 0, scan.validEnd), allocator, codecs);
        Schema schema;
        try {
            schema = reader.getVectorSchemaRoot().getSchema();
        } catch (IOException | RuntimeException e) {
            badBatch = true;
            close();
            throw InputError.atOffset(path, 0, "expected a kmemlab trace schema: " + e.getMessage());
        }
        info.header.putAll(schema.getCustomMetadata());
        String v = info.schemaVersion();
        if (v == null) {
            close();
            throw InputError.atOffset(path, 0, "an Arrow stream without kmemlab metadata (no " + TraceSchema.META_VERSION + ")");
        }
        if (!v.split("\\.")[0].equals(TraceSchema.VERSION.split("\\.")[0])) {
            close();
            throw InputError.atOffset(path, 0, "schema version " + v + ", this kmemlab reads " + TraceSchema.VERSION);
        }
        for (int c = 0; c < TraceSchema.NAMES.length; c++) {
            if (c >= schema.getFields().size() || !TraceSchema.NAMES[c].equals(schema.getFields().get(c).getName())) {
                // a crafted schema's field may have no name at all
                close();
                throw InputError.atOffset(path, 0, "expected column " + c + " to be " + TraceSchema.NAMES[c]);
            }
            // Names alone would let a column of another type reach the typed accessors of TraceBatch.
            var got = schema.getFields().get(c);
            var want = EXPECTED.getFields().get(c);
            boolean sameDict = (got.getDictionary() == null) == (want.getDictionary() == null)
                    && (got.getDictionary() == null || (got.getDictionary().getId() == want.getDictionary().getId()
                        && java.util.Objects.equals(got.getDictionary().getIndexType(), want.getDictionary().getIndexType())));
            if (!got.getType().equals(want.getType()) || !sameDict || !got.getChildren().isEmpty()) {
                close();
                throw InputError.atOffset(path, 0, "expected column " + TraceSchema.NAMES[c] + " of type " + want.getType()
                        + (want.getDictionary() != null ? " (dictionary " + want.getDictionary().getId() + ")" : "") + ", found " + got.getType());
            }
        }
    }

    public TraceInfo info() { return info; }

    public Path path() { return path; }

    /**
     * Loads the next batch; false at the end of the readable events (a damaged batch ends them too). Arrow
     * checks some invariants of a batch it loads with {@code assert} only: with assertions enabled (as under
     * the tests) a crafted batch fails there with an AssertionError, which is the same damaged batch.
     */
    public boolean next() {
        if (ended) return false;
        VectorSchemaRoot root;
        VarCharVector[] dictVectors = new VarCharVector[TraceSchema.DICT_COLUMNS.length];
        try {
            if (!reader.loadNextBatch()) {
                finish();
                return false;
            }
            root = validate(reader);
            Map<Long, Dictionary> dv = reader.getDictionaryVectors();
            for (int i = 0; i < dictVectors.length; i++) dictVectors[i] = (VarCharVector) dv.get((long) i).getVector();
        } catch (IOException | RuntimeException | AssertionError e) {
            badBatch = true;
            if (info.truncationReason == null) info.truncationReason = "unreadable batch after " + rowsRead + " events: " + e.getMessage();
            finish();
            return false;
        }
        // validate() checked the dictionaries (offsets, no nulls): TraceBatch decodes one on first use.
        batch = new TraceBatch(root, dictVectors, intern);
        rowsRead += root.getRowCount();
        batchesRead++;
        return true;
    }

    /**
     * Checks the batch Arrow just loaded before anyone reads it: Arrow does not check offsets or dictionary
     * indices on load, so a crafted value would read outside a buffer (in Java an exception; in DuckDB, which
     * gets the batches through the C data interface, memory it does not own). Returns the batch's root.
     */
    private static VectorSchemaRoot validate(ArrowReader r) throws IOException {
        Map<Long, Dictionary> dv = r.getDictionaryVectors();
        int[] sizes = new int[TraceSchema.DICT_COLUMNS.length];
        for (int i = 0; i < sizes.length; i++) {
            Dictionary d = dv.get((long) i);
            if (d == null || !(d.getVector() instanceof VarCharVector vv)) throw new IllegalStateException("dictionary " + i + " is missing");
            ValueVectorUtility.validateFull(vv);
            if (vv.getNullCount() > 0) throw new IllegalStateException("dictionary " + i + " holds a null");
            sizes[i] = vv.getValueCount();
        }
        VectorSchemaRoot root = r.getVectorSchemaRoot();
        // The structural check (every buffer holds what the row count needs) is cheap; the per-value data
        // checks validateFull adds are done below on ByteBuffer views, since Arrow's getters re-check bounds
        // and reference counts on every cell and took a third of `kmemlab stat`'s time on 10M events.
        ValueVectorUtility.validate(root);
        int rows = root.getRowCount();
        checkStrings((VarCharVector) root.getVector(TraceSchema.EXTRA), rows);
        if (rows == 0) return root;
        int[] keys = DICT_KEYS.get();
        if (keys.length < rows) DICT_KEYS.set(keys = new int[rows]);
        for (int i = 0; i < sizes.length; i++) {
            IntVector iv = (IntVector) root.getVector(TraceSchema.DICT_COLUMNS[i]);
            ByteBuffer valid = view(iv.getValidityBuffer());
            // one bulk copy, then a plain array loop: per-cell ByteBuffer reads cost a call each under C1,
            // which is how `kmemlab stat` runs; a null cell's key may be anything, so only an out-of-range
            // key asks whether its cell is null
            view(iv.getDataBuffer()).asIntBuffer().get(0, keys, 0, rows);
            int size = sizes[i];
            for (int row = 0; row < rows; row++) {
                int k = keys[row];
                if ((k < 0 || k >= size) && (valid.get(row >>> 3) & (1 << (row & 7))) != 0) {
                    throw new IllegalStateException(TraceSchema.NAMES[TraceSchema.DICT_COLUMNS[i]] + " of row " + row
                            + " refers to entry " + k + " of a dictionary of " + size);
                }
            }
        }
        return root;
    }

    /** validate()'s copy of one dictionary column's keys, per thread (a reader is used by one thread at a time). */
    private static final ThreadLocal<int[]> DICT_KEYS = ThreadLocal.withInitial(() -> new int[0]);

    /**
     * validateFull's data checks of a string column, on views: offsets start at or above 0 and never
     * decrease (validate() has checked that the last one lies within the data buffer), and the values are
     * UTF-8. Text that is all ASCII is valid UTF-8 whatever the cuts; anything else is left to Arrow's own
     * per-value check.
     */
    private static void checkStrings(VarCharVector v, int rows) {
        if (rows == 0) return;
        ByteBuffer off = view(v.getOffsetBuffer());
        int prev = off.getInt(0);
        if (prev < 0) throw new IllegalStateException(v.getName() + " has a negative offset " + prev);
        for (int i = 1; i <= rows; i++) {
            int cur = off.getInt(i << 2);
            if (cur < prev) throw new IllegalStateException(v.getName() + " offsets decrease at row " + i + ": " + cur + " < " + prev);
            prev = cur;
        }
        int from = off.getInt(0);
        ByteBuffer data = view(v.getDataBuffer());
        if (prev > data.capacity()) throw new IllegalStateException(v.getName() + " offset " + prev + " beyond its data (" + data.capacity() + " bytes)");
        int i = from;
        for (; i + 8 <= prev; i += 8) if ((data.getLong(i) & 0x8080808080808080L) != 0) break;
        for (; i < prev; i++) {
            if (data.get(i) < 0) {
                ValueVectorUtility.validateFull(v);
                return;
            }
        }
    }

    private static ByteBuffer view(org.apache.arrow.memory.ArrowBuf b) {
        long cap = b == null ? 0 : b.capacity();
        if (cap == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        return b.nioBuffer(0, (int) cap).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The event stream for zero-copy export (the Arrow C data interface), batch by batch validated like
     * {@link #next()}: a damaged batch ends the stream there. Do not mix with {@link #next()}.
     */
    private final class Validating extends ForwardingArrowReader {
        private final Consumer<TraceBatch> tap;

        /** Closing it leaves the stream open: the TraceReader closes it. */
        Validating(Consumer<TraceBatch> tap) {
            super(reader, TraceReader.this.allocator);
            this.tap = tap;
        }

        @Override public boolean loadNextBatch() throws IOException {
            if (ended) return false;
            try {
                if (reader.loadNextBatch()) {
                    VectorSchemaRoot root = validate(reader);
                    int rows = root.getRowCount();
                    rowsRead += rows;
                    batchesRead++;
                    if (tap != null) {
                        Map<Long, Dictionary> dv = reader.getDictionaryVectors();
                        VarCharVector[] dictVectors = new VarCharVector[TraceSchema.DICT_COLUMNS.length];
                        for (int i = 0; i < dictVectors.length; i++) dictVectors[i] = (VarCharVector) dv.get((long) i).getVector();
                        tap.accept(new TraceBatch(root, dictVectors, intern));
                    }
                    return true;
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                badBatch = true;
                if (info.truncationReason == null) info.truncationReason = "unreadable batch after " + rowsRead + " events: " + e.getMessage();
            }
            finish();
            return false;
        }
    }

    private void finish() {
        ended = true;
        info.recoveredRows = rowsRead;
        info.recoveredBatches = batchesRead;
    }

    public TraceBatch batch() { return batch; }

    /**
     * The underlying Arrow reader, for zero-copy export (the Arrow C data interface) of the event stream.
     * Do not mix with {@link #next()}.
     */
    public ArrowReader arrowReader() { return new Validating(null); }

    /**
     * {@link #arrowReader()} that also shows each validated batch to {@code tap} before the consumer of the
     * stream reads it, on the thread that pulls the stream: one decode of the file serves both (the report's
     * statistics beside DuckDB's load). The batch is valid only during the call.
     */
    public ArrowReader arrowReader(Consumer<TraceBatch> tap) { return new Validating(tap); }

    public BufferAllocator allocator() { return allocator; }

    /** Calls {@code action} for every event, reusing one {@link TraceEvent}. */
    public void forEach(Consumer<TraceEvent> action) {
        TraceEvent e = new TraceEvent();
        while (next()) {
            TraceBatch b = batch;
            for (int r = 0, n = b.size(); r < n; r++) {
                b.read(r, e);
                action.accept(e);
            }
        }
    }

    /** Reads a whole trace and returns how many events were recovered (for {@code info} on damaged files). */
    public long countAll() {
        while (next()) { /* counts in next() */ }
        return rowsRead;
    }

    @Override
    public void close() throws IOException {
        try {
            if (reader != null) reader.close();
        } finally {
            try {
                if (allocator != null) allocator.close();
            } catch (IllegalStateException leak) {
                // Bounded by one message the scan already checked against the file; not worth failing a read
                // that has returned what it could.
                if (!badBatch) throw leak;
            } finally {
                codecs.close();
                channel.close();
            }
        }
    }

    /**
     * The trailer and the stream header's schema metadata ({@link TraceInfo#header}: schema version, kernel
     * release, nr_cpus, replay hints), checked as {@link #TraceReader(Path)} checks them, without reading events.
     */
    public static TraceInfo readHeaderAndInfo(Path path) throws IOException {
        try (TraceReader r = new TraceReader(path)) {
            return r.info();
        }
    }

    /**
     * Reads only the trailer (fast); a file without a valid trailer is reported as incomplete. The header's
     * metadata is not read: {@link TraceInfo#header} stays empty (see {@link #readHeaderAndInfo}).
     */
    public static TraceInfo readInfo(Path path) throws IOException {
        TraceInfo info = new TraceInfo();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 16) {
                info.truncationReason = "file is " + size + " bytes, too short for a trailer";
                return info;
            }
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, tail, size - 16);
            tail.flip();
            long off = tail.getLong();
            byte[] magic = new byte[8];
            tail.get(magic);
            if (!Arrays.equals(magic, TraceWriter.TAIL_MAGIC) || off < 0 || off > size - 16) {
                info.truncationReason = "no trailer: the file was cut short or the recording was killed";
                return info;
            }
            Scan scan = scan(ch, off, size - 16, path, -1);
            if (!scan.eos) {
                info.truncationReason = "trailer is damaged";
                return info;
            }
            try (BufferAllocator a = new RootAllocator(MAX_DECODED);
                 ArrowStreamReader r = new ArrowStreamReader(new BoundedChannel(ch, off, scan.validEnd), a)) {
                while (r.loadNextBatch()) {
                    VectorSchemaRoot root = r.getVectorSchemaRoot();
                    VarCharVector sec = (VarCharVector) root.getVector(0);
                    VarCharVector key = (VarCharVector) root.getVector(1);
                    VarCharVector val = (VarCharVector) root.getVector(2);
                    for (int i = 0; i < root.getRowCount(); i++) {
                        String s = new String(sec.get(i), StandardCharsets.UTF_8);
                        String k = new String(key.get(i), StandardCharsets.UTF_8);
                        String v = new String(val.get(i), StandardCharsets.UTF_8);
                        switch (s) {
                            case TraceInfo.SEC_META -> info.meta.put(k, v);
                            case TraceInfo.SEC_STACK -> info.stacks.put(Integer.parseInt(k), List.of(v.split("\n")));
                            case TraceInfo.SEC_SNAPSHOT -> info.snapshot.put(k, v);
                            case TraceInfo.SEC_LOST -> info.lostByCpu.put(Integer.parseInt(k), Long.parseLong(v));
                            case TraceInfo.SEC_UNKNOWN -> info.unknownEvents.put(k, Long.parseLong(v));
                            case TraceInfo.SEC_MALFORMED -> info.malformedSamples.add(v);
                            case TraceInfo.SEC_ANOMALIES -> info.anomalies.put(k, Long.parseLong(v));
                            default -> { }
                        }
                    }
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                info.truncationReason = "trailer is damaged: " + e.getMessage();
                return info;
            }
            long rows, batches;
            try {
                rows = info.metaLong("events", -1);
                batches = info.metaLong("batches", -1);
            } catch (NumberFormatException e) {
                // a trailer whose counts are not numbers was not written by kmemlab: the batches are the truth
                info.truncationReason = "trailer is damaged: its event or batch count is not a number";
                return info;
            }
            info.meta.put("_trailer_offset", Long.toString(off));
            info.complete = true;
            info.recoveredRows = rows;
            info.recoveredBatches = batches;
        }
        return info;
    }

    /**
     * The result of walking message frames: where the last whole message ends, whether EOS was seen, and
     * whether the walk stopped at a schema nested deeper than {@link #MAX_FIELD_DEPTH}.
     */
    private record Scan(long validEnd, boolean eos, int messages, boolean deepSchema) {
        Scan(long validEnd, boolean eos, int messages) { this(validEnd, eos, messages, false); }
    }

    /**
     * Arrow converts a schema's fields recursively ({@code Field.convertField}): a crafted schema nested
     * thousands deep exhausts the stack before any field is checked (found by TraceFuzzTest). kmemlab's schemas
     * are flat, so the flatbuffer is walked first, iteratively, and anything deeper than this is refused.
     */
    static final int MAX_FIELD_DEPTH = 32;
    /** Fields visited at most: offsets in a crafted flatbuffer can point back and make the tree a cycle. */
    static final int MAX_FIELDS = 4096;

    /** True when the schema's fields nest deeper than {@link #MAX_FIELD_DEPTH} or number more than {@link #MAX_FIELDS}. */
    static boolean tooDeep(org.apache.arrow.flatbuf.Schema schema) {
        java.util.ArrayDeque<org.apache.arrow.flatbuf.Field> stack = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Integer> depth = new java.util.ArrayDeque<>();
        for (int i = 0; i < schema.fieldsLength(); i++) {
            stack.push(schema.fields(new org.apache.arrow.flatbuf.Field(), i));
            depth.push(1);
        }
        int visited = 0;
        while (!stack.isEmpty()) {
            org.apache.arrow.flatbuf.Field f = stack.pop();
            int d = depth.pop();
            if (d > MAX_FIELD_DEPTH || ++visited > MAX_FIELDS) return true;
            for (int i = 0; i < f.childrenLength(); i++) {
                stack.push(f.children(new org.apache.arrow.flatbuf.Field(), i));
                depth.push(d + 1);
            }
        }
        return false;
    }

    private static Scan scan(FileChannel ch, long start, long end, Path path) throws IOException {
        return scan(ch, start, end, path, TraceSchema.DICT_COLUMNS.length - 1);
    }

    /** {@code maxDictId} -1: the stream has no dictionaries to check (the trailer). */
    private static Scan scan(FileChannel ch, long start, long end, Path path, int maxDictId) throws IOException {
        long pos = start;
        int messages = 0;
        ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (pos + 4 <= end) {
            head.clear();
            head.limit((int) Math.min(8, end - pos));
            readFully(ch, head, pos);
            head.flip();
            int a = head.getInt();
            int len;
            int hdr;
            if (a == -1) {
                if (head.remaining() < 4) break;
                len = head.getInt();
                hdr = 8;
            } else {
                len = a;
                hdr = 4;
            }
            if (len == 0) return new Scan(pos + hdr, true, messages);
            if (len < 0 || len > MAX_METADATA || pos + hdr + len > end) break;
            ByteBuffer meta = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, meta, pos + hdr);
            meta.flip();
            long body;
            try {
                Message m = Message.getRootAsMessage(meta);
                byte ht = m.headerType();
                if (ht != MessageHeader.Schema && ht != MessageHeader.RecordBatch && ht != MessageHeader.DictionaryBatch) break;
                if (messages == 0 && ht != MessageHeader.Schema) break;
                if (ht == MessageHeader.Schema && tooDeep((org.apache.arrow.flatbuf.Schema) m.header(new org.apache.arrow.flatbuf.Schema()))) {
                    return new Scan(pos, false, messages, true);
                }
                // Arrow leaks a dictionary batch whose id the schema does not define (it throws before
                // releasing the body), so such a message ends the readable stream here instead.
                if (ht == MessageHeader.DictionaryBatch && maxDictId >= 0) {
                    long id = ((DictionaryBatch) m.header(new DictionaryBatch())).id();
                    if (id < 0 || id > maxDictId) break;
                }
                body = m.bodyLength();
            } catch (RuntimeException e) {
                break;
            }
            if (body < 0 || pos + hdr + len + body > end) break;
            pos += hdr + len + body;
            messages++;
        }
        return new Scan(pos, false, messages);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }

    /** A read-only window [start, end) of a file channel. */
    private static final class BoundedChannel implements ReadableByteChannel {
        private final FileChannel ch;
        private long pos;
        private final long end;

        BoundedChannel(FileChannel ch, long start, long end) {
            this.ch = ch;
            this.pos = start;
            this.end = end;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (pos >= end) return -1;
            int want = (int) Math.min(dst.remaining(), end - pos);
            ByteBuffer slice = dst.duplicate();
            slice.limit(slice.position() + want);
            int n = ch.read(slice, pos);
            if (n > 0) {
                dst.position(dst.position() + n);
                pos += n;
            }
            return n;
        }

        @Override public boolean isOpen() { return ch.isOpen(); }
        @Override public void close() {}
    }
}
