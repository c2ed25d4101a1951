package org.kmemlab.analysis;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A reader handed to DuckDB through the C data interface, closing the one it wraps once, whoever comes first.
 * TraceDb closes its readers after the query that scans them, and the exported stream's release closes the
 * same reader again when DuckDB lets go of the scan, which can be after the query returns and on one of DuckDB's
 * threads. Arrow's readers do not guard their close: two at once released a buffer twice ("RefCnt has gone
 * negative", seen in LifetimePairingTest). Callers must close this wrapper, never the reader inside.
 */
final class ClosingOnce extends ArrowReader {
    private final ArrowReader reader;
    private boolean closed;

    private ClosingOnce(ArrowReader reader, BufferAllocator allocator) {
        super(allocator);
        this.reader = reader;
    }

    static ArrowReader of(ArrowReader reader, BufferAllocator allocator) {
        return reader instanceof ClosingOnce ? reader : new ClosingOnce(reader, allocator);
    }

    @Override public boolean loadNextBatch() throws IOException { return reader.loadNextBatch(); }
    @Override public VectorSchemaRoot getVectorSchemaRoot() throws IOException { return reader.getVectorSchemaRoot(); }
    @Override public Map<Long, Dictionary> getDictionaryVectors() throws IOException { return reader.getDictionaryVectors(); }
    @Override public Dictionary lookup(long id) { return reader.lookup(id); }
    @Override public Set<Long> getDictionaryIds() { return reader.getDictionaryIds(); }
    @Override public long bytesRead() { return reader.bytesRead(); }
    @Override protected void closeReadSource() { /* the wrapped reader's, in close() */ }
    @Override protected Schema readSchema() throws IOException { return reader.getVectorSchemaRoot().getSchema(); }

    @Override
    public synchronized void close(boolean closeReadSource) throws IOException {
        if (closed) return;
        closed = true;
        reader.close(closeReadSource);
    }
}
