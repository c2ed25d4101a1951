package org.kmemlab.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A small Arrow IPC stream writer for derived tables (replay requests, profiles, timelines): typed
 * columns, rows appended one cell at a time, batches of 64K rows, so memory stays flat. Readable by any
 * Arrow stream reader and by {@code kmemlab sql}.
 *
 * <p>Cells go into plain Java arrays and are copied into the Arrow vectors once per batch: Arrow's setSafe
 * checks capacity, reference counts and bounds on every cell and fills the offsets of null strings one by
 * one, which cost more than the replay that produced the row. Nulls are recorded rather than present cells
 * (most cells are present). A string's UTF-8 bytes are encoded once per String object, not once per row.
 * The file is the same, byte for byte, as cell-by-cell setSafe wrote it.
 */
public final class TableWriter implements AutoCloseable {
    public enum Type { LONG, INT, DOUBLE, STRING }

    private static final int BATCH = 65_536;

    private final BufferAllocator allocator = new RootAllocator();
    private final FileChannel channel;
    private final VectorSchemaRoot root;
    private final FieldVector[] v;
    private final Type[] types;
    private final ArrowStreamWriter writer;
    /** LONG values, DOUBLE values as raw bits. */
    private final long[][] longs;
    /** INT values; for STRING columns the end offset of each row's bytes. */
    private final int[][] ints;
    /** A set bit per null cell. */
    private final long[][] nulls;
    private final byte[][] bytes;
    private final int[] bytesLen;
    private static final int CACHE = 256;
    private final String[] cacheKey;
    private final byte[][] cacheBytes;
    private int row;
    private int col;
    private long rows;
    /** Rows the arrays hold: they grow up to a batch, so a table of a few rows stays small. */
    private int cap = 1024;

    public TableWriter(Path path, List<String> names, List<Type> types, Map<String, String> metadata) throws IOException {
        List<Field> fields = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            ArrowType t = switch (types.get(i)) {
                case LONG -> new ArrowType.Int(64, true);
                case INT -> new ArrowType.Int(32, true);
                case DOUBLE -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
                case STRING -> ArrowType.Utf8.INSTANCE;
            };
            fields.add(new Field(names.get(i), FieldType.nullable(t), null));
        }
        this.types = types.toArray(new Type[0]);
        int n = this.types.length;
        longs = new long[n][];
        ints = new int[n][];
        nulls = new long[n][BATCH / 64];
        bytes = new byte[n][];
        bytesLen = new int[n];
        cacheKey = new String[n * CACHE];
        cacheBytes = new byte[n * CACHE][];
        for (int c = 0; c < n; c++) {
            switch (this.types[c]) {
                case LONG, DOUBLE -> longs[c] = new long[cap];
                case INT -> ints[c] = new int[cap];
                case STRING -> {
                    ints[c] = new int[cap];
                    bytes[c] = new byte[1024];
                }
            }
        }
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        root = VectorSchemaRoot.create(new Schema(fields, metadata), allocator);
        v = root.getFieldVectors().toArray(new FieldVector[0]);
        writer = new ArrowStreamWriter(root, null, channel);
        writer.start();
    }

    public TableWriter add(long x) {
        longs[col++][row] = x;
        return this;
    }

    public TableWriter add(int x) {
        ints[col++][row] = x;
        return this;
    }

    public TableWriter add(double x) {
        longs[col++][row] = Double.doubleToRawLongBits(x);
        return this;
    }

    public TableWriter add(String s) {
        if (s == null) return addNull();
        int c = col++;
        // The same String object (a trace dictionary entry, a constant) is encoded once: a direct-mapped cache
        // by identity, so a hit costs no hashing of the characters.
        int slot = c * CACHE + (System.identityHashCode(s) & (CACHE - 1));
        byte[] b;
        if (cacheKey[slot] == s) {
            b = cacheBytes[slot];
        } else {
            b = s.getBytes(StandardCharsets.UTF_8);
            cacheKey[slot] = s;
            cacheBytes[slot] = b;
        }
        int len = bytesLen[c];
        byte[] dst = bytes[c];
        if (dst.length - len < b.length) dst = bytes[c] = Arrays.copyOf(dst, Math.max(2 * dst.length, len + b.length));
        System.arraycopy(b, 0, dst, len, b.length);
        len += b.length;
        bytesLen[c] = len;
        ints[c][row] = len;
        return this;
    }

    public TableWriter addNull() {
        int c = col++;
        nulls[c][row >>> 6] |= 1L << row;
        // A null string ends where the previous row ended; a null number is 0, as in a freshly zeroed vector.
        switch (types[c]) {
            case STRING -> ints[c][row] = bytesLen[c];
            case INT -> ints[c][row] = 0;
            default -> longs[c][row] = 0L;
        }
        return this;
    }

    /** Ends the current row; every column must have been given a cell. */
    public void endRow() {
        if (col != v.length) throw new IllegalStateException("row has " + col + " cells, table has " + v.length + " columns");
        col = 0;
        rows++;
        if (++row == BATCH) flush();
        else if (row == cap) grow();
    }

    private void grow() {
        cap = Math.min(BATCH, 2 * cap);
        for (int c = 0; c < types.length; c++) {
            if (longs[c] != null) longs[c] = Arrays.copyOf(longs[c], cap);
            if (ints[c] != null) ints[c] = Arrays.copyOf(ints[c], cap);
        }
    }

    public long rows() { return rows; }

    private static ByteBuffer view(ArrowBuf b, long from, long len) {
        return b.nioBuffer(from, (int) len).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void flush() {
        if (row == 0) return;
        try {
            int n = row;
            int validityBytes = (n + 7) >>> 3;
            for (int c = 0; c < v.length; c++) {
                FieldVector f = v[c];
                switch (types[c]) {
                    case STRING -> {
                        VarCharVector vv = (VarCharVector) f;
                        vv.allocateNew(Math.max(1, bytesLen[c]), n);
                        ArrowBuf offsets = vv.getOffsetBuffer();
                        offsets.setInt(0, 0);
                        view(offsets, 4, 4L * n).asIntBuffer().put(ints[c], 0, n);
                        vv.getDataBuffer().setBytes(0, bytes[c], 0, bytesLen[c]);
                        vv.setLastSet(n - 1);
                    }
                    case INT -> {
                        ((org.apache.arrow.vector.FixedWidthVector) f).allocateNew(n);
                        view(f.getDataBuffer(), 0, 4L * n).asIntBuffer().put(ints[c], 0, n);
                    }
                    default -> {
                        ((org.apache.arrow.vector.FixedWidthVector) f).allocateNew(n);
                        view(f.getDataBuffer(), 0, 8L * n).asLongBuffer().put(longs[c], 0, n);
                    }
                }
                // Validity: every row up to n present but the nulls; bits past n stay clear.
                ArrowBuf vb = f.getValidityBuffer();
                long[] w = nulls[c];
                for (int i = 0; i < validityBytes; i++) {
                    int bitsHere = Math.min(8, n - 8 * i);
                    int present = ~(int) (w[i >>> 3] >>> ((i & 7) << 3)) & ((1 << bitsHere) - 1);
                    vb.setByte(i, (byte) present);
                }
                Arrays.fill(w, 0, (n + 63) >>> 6, 0L);
                bytesLen[c] = 0;
            }
            root.setRowCount(n);
            writer.writeBatch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        row = 0;
        for (FieldVector f : v) f.reset();
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
            writer.end();
            // A closed writer may stay referenced (the replay driver keeps its tables): let the staging arrays go.
            Arrays.fill(longs, null);
            Arrays.fill(ints, null);
            Arrays.fill(bytes, null);
        } finally {
            writer.close();
            root.close();
            channel.close();
            allocator.close();
        }
    }
}
