package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TableWriter's bulk copy against Arrow's own cell-by-cell setSafe: the same values and the same bytes. */
class TableWriterTest {
    @TempDir Path tmp;

    private static final List<String> NAMES = List.of("l", "i", "d", "s", "t");
    private static final List<TableWriter.Type> TYPES = List.of(TableWriter.Type.LONG, TableWriter.Type.INT,
            TableWriter.Type.DOUBLE, TableWriter.Type.STRING, TableWriter.Type.STRING);
    private static final String[] WORDS = {"kmalloc", "cache_alloc", "zone->lock", "ä€ multi-byte", ""};
    /** Over one batch (65536 rows), so both batch boundaries and the arrays' growth are crossed. */
    private static final int ROWS = 70_001;

    // The rows, from their index alone: row r has a null in column c when (r + c) % 7 == 0.
    private static boolean isNull(int r, int c) { return (r + c) % 7 == 0; }
    private static long l(int r) { return r * 1_000_003L - 5; }
    private static int i(int r) { return -r; }
    private static double d(int r) { return r / 8.0; }
    private static String s(int r) { return WORDS[r % WORDS.length]; }
    private static String t(int r) { return "row " + r; }

    @Test
    void sameValuesAndSameBytesAsCellByCellSetSafe() throws IOException {
        Path ours = tmp.resolve("ours.arrow");
        try (TableWriter w = new TableWriter(ours, NAMES, TYPES, Map.of("k", "v"))) {
            for (int r = 0; r < ROWS; r++) {
                if (isNull(r, 0)) w.addNull(); else w.add(l(r));
                if (isNull(r, 1)) w.addNull(); else w.add(i(r));
                if (isNull(r, 2)) w.addNull(); else w.add(d(r));
                w.add(isNull(r, 3) ? null : s(r));
                w.add(isNull(r, 4) ? null : t(r));
                w.endRow();
            }
        }
        Path ref = tmp.resolve("ref.arrow");
        writeWithSetSafe(ref);
        assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(ours), "byte for byte");

        int r = 0;
        List<Integer> batches = new ArrayList<>();
        try (BufferAllocator a = new RootAllocator(); ArrowStreamReader rd = new ArrowStreamReader(Files.newInputStream(ours), a)) {
            while (rd.loadNextBatch()) {
                VectorSchemaRoot root = rd.getVectorSchemaRoot();
                batches.add(root.getRowCount());
                for (int k = 0; k < root.getRowCount(); k++, r++) {
                    BigIntVector lv = (BigIntVector) root.getVector(0);
                    IntVector iv = (IntVector) root.getVector(1);
                    Float8Vector dv = (Float8Vector) root.getVector(2);
                    VarCharVector sv = (VarCharVector) root.getVector(3), tv = (VarCharVector) root.getVector(4);
                    if (isNull(r, 0)) assertNull(lv.getObject(k)); else assertEquals(l(r), lv.get(k));
                    if (isNull(r, 1)) assertNull(iv.getObject(k)); else assertEquals(i(r), iv.get(k));
                    if (isNull(r, 2)) assertNull(dv.getObject(k)); else assertEquals(d(r), dv.get(k));
                    if (isNull(r, 3)) assertNull(sv.getObject(k)); else assertEquals(s(r), new String(sv.get(k), StandardCharsets.UTF_8));
                    if (isNull(r, 4)) assertNull(tv.getObject(k)); else assertEquals(t(r), new String(tv.get(k), StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals(ROWS, r);
        assertEquals(List.of(65_536, ROWS - 65_536), batches);
    }

    @Test
    void anEmptyTableIsTheSchemaAlone() throws IOException {
        Path ours = tmp.resolve("empty.arrow");
        new TableWriter(ours, NAMES, TYPES, Map.of()).close();
        try (BufferAllocator a = new RootAllocator(); ArrowStreamReader rd = new ArrowStreamReader(Files.newInputStream(ours), a)) {
            assertEquals(NAMES.size(), rd.getVectorSchemaRoot().getSchema().getFields().size());
            assertEquals(false, rd.loadNextBatch());
        }
    }

    /** The previous implementation, kept here as the reference: Arrow's setSafe/setNull per cell. */
    private static void writeWithSetSafe(Path path) throws IOException {
        List<Field> fields = List.of(
                new Field("l", FieldType.nullable(new ArrowType.Int(64, true)), null),
                new Field("i", FieldType.nullable(new ArrowType.Int(32, true)), null),
                new Field("d", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null),
                new Field("s", FieldType.nullable(ArrowType.Utf8.INSTANCE), null),
                new Field("t", FieldType.nullable(ArrowType.Utf8.INSTANCE), null));
        try (BufferAllocator a = new RootAllocator();
             FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
             VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(fields, Map.of("k", "v")), a);
             ArrowStreamWriter w = new ArrowStreamWriter(root, null, ch)) {
            FieldVector[] v = root.getFieldVectors().toArray(new FieldVector[0]);
            root.allocateNew();
            w.start();
            int row = 0;
            for (int r = 0; r < ROWS; r++) {
                if (isNull(r, 0)) v[0].setNull(row); else ((BigIntVector) v[0]).setSafe(row, l(r));
                if (isNull(r, 1)) v[1].setNull(row); else ((IntVector) v[1]).setSafe(row, i(r));
                if (isNull(r, 2)) v[2].setNull(row); else ((Float8Vector) v[2]).setSafe(row, d(r));
                if (isNull(r, 3)) v[3].setNull(row); else ((VarCharVector) v[3]).setSafe(row, s(r).getBytes(StandardCharsets.UTF_8));
                if (isNull(r, 4)) v[4].setNull(row); else ((VarCharVector) v[4]).setSafe(row, t(r).getBytes(StandardCharsets.UTF_8));
                if (++row == 65_536) {
                    root.setRowCount(row);
                    w.writeBatch();
                    row = 0;
                    for (FieldVector f : v) f.reset();
                }
            }
            if (row > 0) {
                root.setRowCount(row);
                w.writeBatch();
            }
            w.end();
        }
    }
}
