package org.kmemlab.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The versioned Arrow schema of a kmemlab trace (trace-format/SCHEMA.md). One row is one event.
 * Repeated strings are dictionary-encoded with int32 indices; each record batch carries its own
 * dictionaries, so memory stays flat however long the trace is.
 */
public final class TraceSchema {
    private TraceSchema() {}

    /** Bumped on any incompatible change; readers refuse a newer major version. */
    public static final String VERSION = "1.0";

    public static final String META_VERSION = "kmemlab.schema_version";
    public static final String META_SOURCE_FORMAT = "kmemlab.source_format";
    public static final String META_SOURCE = "kmemlab.source";
    public static final String META_KERNEL_RELEASE = "kmemlab.kernel_release";
    public static final String META_NR_CPUS = "kmemlab.nr_cpus";
    public static final String META_GFP_LAYOUT = "kmemlab.gfp_layout";

    /** Column indices, in schema order. */
    public static final int TS_NS = 0, CPU = 1, PID = 2, TID = 3, COMM = 4, EVENT = 5, CALL_SITE = 6,
            CALL_SITE_FN = 7, PTR = 8, BYTES_REQ = 9, BYTES_ALLOC = 10, GFP_FLAGS = 11, GFP = 12, NODE = 13,
            CACHE = 14, ACCOUNTED = 15, PFN = 16, ORDER = 17, MIGRATETYPE = 18, CONTEXT = 19, STACK_ID = 20,
            EXTRA = 21;

    public static final String[] NAMES = {"ts_ns", "cpu", "pid", "tid", "comm", "event", "call_site",
        "call_site_fn", "ptr", "bytes_req", "bytes_alloc", "gfp_flags", "gfp", "node", "cache", "accounted", "pfn",
        "order", "migratetype", "context", "stack_id", "extra"};

    /** The dictionary-encoded columns, in the order of their dictionary ids. */
    public static final int[] DICT_COLUMNS = {COMM, EVENT, CALL_SITE, CALL_SITE_FN, GFP, CACHE, CONTEXT};

    static final ArrowType.Int I32 = new ArrowType.Int(32, true);
    static final ArrowType.Int I64 = new ArrowType.Int(64, true);

    public static long dictionaryId(int column) {
        for (int i = 0; i < DICT_COLUMNS.length; i++) if (DICT_COLUMNS[i] == column) return i;
        return -1;
    }

    public static boolean isDict(int column) { return dictionaryId(column) >= 0; }

    public static Schema schema(Map<String, String> metadata) {
        List<Field> fields = new ArrayList<>();
        for (int c = 0; c < NAMES.length; c++) {
            fields.add(field(c));
        }
        return new Schema(fields, metadata);
    }

    static Field field(int c) {
        String n = NAMES[c];
        if (isDict(c)) {
            DictionaryEncoding enc = new DictionaryEncoding(dictionaryId(c), false, I32);
            return new Field(n, new FieldType(true, I32, enc), null);
        }
        ArrowType t = switch (c) {
            case TS_NS, PTR, BYTES_REQ, BYTES_ALLOC, GFP_FLAGS, PFN -> I64;
            case CPU, PID, TID, NODE, ORDER, MIGRATETYPE, STACK_ID -> I32;
            case ACCOUNTED -> ArrowType.Bool.INSTANCE;
            case EXTRA -> ArrowType.Utf8.INSTANCE;
            default -> throw new AssertionError(n);
        };
        // ts_ns and event are always present; everything else is nullable.
        boolean nullable = c != TS_NS;
        return new Field(n, new FieldType(nullable, t, null), null);
    }

    static Field dictionaryField(int c) {
        return new Field(NAMES[c] + "_dict", new FieldType(false, ArrowType.Utf8.INSTANCE, null), null);
    }

    /** Column index of a name, or -1. */
    public static int column(String name) {
        for (int i = 0; i < NAMES.length; i++) if (NAMES[i].equals(name)) return i;
        return -1;
    }
}
