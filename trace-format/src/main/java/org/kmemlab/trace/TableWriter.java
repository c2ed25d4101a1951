package org.kmemlab.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
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
 */
public final class TableWriter implements AutoCloseable {
    public enum Type { LONG, INT, DOUBLE, STRING }

    private final BufferAllocator allocator = new RootAllocator();
    private final FileChannel channel;
    private final VectorSchemaRoot root;
    private final FieldVector[] v;
    private final ArrowStreamWriter writer;
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
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        root = VectorSchemaRoot.create(new Schema(fields, metadata), allocator);
        v = root.getFieldVectors().toArray(new FieldVector[0]);
        root.allocateNew();
        writer = new ArrowStreamWriter(root, null, channel);
        writer.start();
    }

    public TableWriter add(long x) { ((BigIntVector) v[col++]).setSafe(row, x); return this; }
    public TableWriter add(int x) { ((IntVector) v[col++]).setSafe(row, x); return this; }
    public TableWriter add(double x) { ((Float8Vector) v[col++]).setSafe(row, x); return this; }

    public TableWriter add(String s) {
        VarCharVector vv = (VarCharVector) v[col++];
        if (s == null) vv.setNull(row); else vv.setSafe(row, s.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public TableWriter addNull() { v[col++].setNull(row); return this; }

    /** Ends the current row; every column must have been given a cell. */
    public void endRow() {
        if (col != v.length) throw new IllegalStateException("row has " + col + " cells, table has " + v.length + " columns");
        col = 0;
        rows++;
        if (++row == 65_536) flush();
    }

    public long rows() { return rows; }

    private void flush() {
        if (row == 0) return;
        try {
            root.setRowCount(row);
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
