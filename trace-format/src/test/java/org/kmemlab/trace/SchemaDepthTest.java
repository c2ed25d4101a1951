package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A schema nested deeper than any kmemlab schema is refused from the flatbuffer, before Arrow recurses into it. */
class SchemaDepthTest {
    @TempDir Path tmp;

    /** A stream with kmemlab's metadata whose one column is a list of lists ... {@code depth} fields deep. */
    private Path nested(int depth) throws Exception {
        Field f = new Field("leaf", FieldType.nullable(new ArrowType.Int(32, true)), null);
        for (int d = 1; d < depth; d++) f = new Field("l" + d, FieldType.nullable(ArrowType.List.INSTANCE), List.of(f));
        Schema schema = new Schema(List.of(f), Map.of(TraceSchema.META_VERSION, TraceSchema.VERSION));
        Path p = tmp.resolve("nested-" + depth + ".arrow");
        try (RootAllocator a = new RootAllocator(); VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
             OutputStream out = Files.newOutputStream(p); ArrowStreamWriter w = new ArrowStreamWriter(root, null, out)) {
            w.start();
            w.end();
        }
        return p;
    }

    @Test
    void deeperThanTheLimitIsAnInputErrorNamingTheDepth() throws Exception {
        Path p = nested(TraceReader.MAX_FIELD_DEPTH + 1);
        InputError e = assertThrows(InputError.class, () -> new TraceReader(p).close());
        assertTrue(e.getMessage().contains("nested deeper than " + TraceReader.MAX_FIELD_DEPTH), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void atTheLimitArrowReadsItAndTheColumnCheckRefusesIt() throws Exception {
        Path p = nested(TraceReader.MAX_FIELD_DEPTH);
        InputError e = assertThrows(InputError.class, () -> new TraceReader(p).close());
        assertTrue(e.getMessage().contains("expected column 0 to be " + TraceSchema.NAMES[0]), e.getMessage());
    }
}
