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
 * <p>Cells go into plain Java buffers and are copied into the Arrow vectors once per batch: Arrow's
 * setSafe checks capacity, reference counts and bounds on every cell and fills the offsets of null strings
 * one by one, which cost more than the replay that produced the row. A string's UTF-8 bytes are encoded
 * once per distinct string, not once per row. The file is the same, byte for byte, as cell-by-cell setSafe
 * wrote it.
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
    /** Fixed-width values, little-endian as Arrow lays them out; string columns: the end offset of each row. */
    private final ByteBuffer[] values;
    private final long[][] validity;
    private final byte[][] bytes;
    private final int[] bytesLen;
    private static final int CACHE = 256;
    private final String[] cacheKey;
    private final byte[][] cacheBytes;
    private int row;
    private int col;
    private long rows;

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
        values = new ByteBuffer[n];
        validity = new long[n][BATCH / 64];
        bytes = new byte[n][];
        bytesLen = new int[n];
        cacheKey = new String[n * CACHE];
        cacheBytes = new byte[n * CACHE][];
        for (int c = 0; c < n; c++) {
            int width = switch (this.types[c]) {
                case LONG, DOUBLE -> 8;
                case INT, STRING -> 4;
            };
            values[c] = ByteBuffer.allocate(BATCH * width).order(ByteOrder.LITTLE_ENDIAN);
            if (this.types[c] == Type.STRING) bytes[c] = new byte[1024];
        }
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        root = VectorSchemaRoot.create(new Schema(fields, metadata), allocator);
        v = root.getFieldVectors().toArray(new FieldVector[0]);
        writer = new ArrowStreamWriter(root, null, channel);
        writer.start();
    }

    private void present(int c) { validity[c][row >>> 6] |= 1L << row; }

    public TableWriter add(long x) {
        int c = col++;
        values[c].putLong(row << 3, x);
        present(c);
        return this;
    }

    public TableWriter add(int x) {
        int c = col++;
        values[c].putInt(row << 2, x);
        present(c);
        return this;
    }

    public TableWriter add(double x) {
        int c = col++;
        values[c].putDouble(row << 3, x);
        present(c);
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
        if (bytes[c].length - len < b.length) bytes[c] = Arrays.copyOf(bytes[c], Math.max(2 * bytes[c].length, len + b.length));
        System.arraycopy(b, 0, bytes[c], len, b.length);
        bytesLen[c] = len + b.length;
        values[c].putInt(row << 2, bytesLen[c]);
        present(c);
        return this;
    }

    public TableWriter addNull() {
        int c = col++;
        // A null string ends where the previous row ended; a null number is 0, as in a freshly zeroed vector.
        if (types[c] == Type.STRING) values[c].putInt(row << 2, bytesLen[c]);
        else if (types[c] == Type.INT) values[c].putInt(row << 2, 0);
        else values[c].putLong(row << 3, 0L);
        return this;
    }

    /** Ends the current row; every column must have been given a cell. */
    public void endRow() {
        if (col != v.length) throw new IllegalStateException("row has " + col + " cells, table has " + v.length + " columns");
        col = 0;
        rows++;
        if (++row == BATCH) flush();
    }

    public long rows() { return rows; }

    private void flush() {
        if (row == 0) return;
        try {
            int n = row;
            int validityBytes = (n + 7) >>> 3;
            for (int c = 0; c < v.length; c++) {
                FieldVector f = v[c];
                if (types[c] == Type.STRING) {
                    VarCharVector vv = (VarCharVector) f;
                    vv.allocateNew(Math.max(1, bytesLen[c]), n);
                    ArrowBuf offsets = vv.getOffsetBuffer();
                    offsets.setInt(0, 0);
                    offsets.setBytes(4, values[c].array(), 0, 4L * n);
                    vv.getDataBuffer().setBytes(0, bytes[c], 0, bytesLen[c]);
                    vv.setLastSet(n - 1);
                } else {
                    ((org.apache.arrow.vector.FixedWidthVector) f).allocateNew(n);
                    int width = types[c] == Type.INT ? 4 : 8;
                    f.getDataBuffer().setBytes(0, values[c].array(), 0, (long) width * n);
                }
                ArrowBuf vb = f.getValidityBuffer();
                long[] w = validity[c];
                for (int i = 0; i < validityBytes; i++) vb.setByte(i, (byte) (w[i >>> 3] >>> ((i & 7) << 3)));
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
        } finally {
            writer.close();
            root.close();
            channel.close();
            allocator.close();
        }
    }
}
