package org.kmemlab.recorder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.kmemlab.trace.InputError;

/** The known importers, tried in order against the first bytes of an input. */
public final class Importers {
    private Importers() {}

    private static final List<Importer> ALL = new ArrayList<>();

    static {
        // Binary formats first: their magic bytes are unambiguous.
        ALL.add(new org.kmemlab.recorder.perfdata.PerfDataImporter());
        ALL.add(new org.kmemlab.recorder.tracedat.TraceDatImporter());
        ALL.add(new FtraceTextImporter());
        ALL.add(new PerfScriptImporter());
    }

    public static List<Importer> all() { return List.copyOf(ALL); }

    public static Importer detect(Input in) throws IOException {
        byte[] head = in.peek(4096);
        if (head.length == 0) throw InputError.atOffset(in.name(), 0, "empty input, expected perf script text, ftrace text, perf.data or trace.dat");
        for (Importer i : ALL) if (i.accepts(head, head.length)) return i;
        throw InputError.atOffset(in.name(), 0,
                "unrecognised format: expected perf script text, ftrace text (tracefs trace, trace_pipe, trace-cmd report), perf.data or trace.dat");
    }

    public static Importer byName(String format) {
        for (Importer i : ALL) if (i.format().equals(format)) return i;
        throw new IllegalArgumentException("unknown format " + format + "; known: "
                + ALL.stream().map(Importer::format).toList());
    }
}
