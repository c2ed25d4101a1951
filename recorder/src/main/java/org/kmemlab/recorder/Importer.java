package org.kmemlab.recorder;

import java.io.IOException;

import org.kmemlab.trace.TraceWriter;

/**
 * One source format that becomes a kmemlab trace. Importers are chosen by {@link Importers#detect} from
 * the first bytes of the (decompressed) input, never from the file name alone.
 */
public interface Importer {
    /** A short name: {@code perf-script}, {@code ftrace}, {@code perf.data}, {@code trace.dat}. */
    String format();

    /** True when {@code head} (up to 4 KiB of the decompressed input) looks like this format. */
    boolean accepts(byte[] head, int len);

    /**
     * Reads {@code in} to its end and writes every event to {@code out}. Malformed records are counted
     * with {@link TraceWriter#unparsed} (the first few with their position) and the import goes on,
     * unless {@code opts.strict()}, where the first one throws an {@link org.kmemlab.trace.InputError}.
     */
    void importTo(Input in, TraceWriter out, ImportOptions opts) throws IOException;
}
