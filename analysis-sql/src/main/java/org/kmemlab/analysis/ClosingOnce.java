package org.kmemlab.analysis;

import java.io.IOException;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.kmemlab.trace.ForwardingArrowReader;

/**
 * A reader handed to DuckDB through the C data interface, closing the one it wraps once, whoever comes first.
 * TraceDb closes its readers after the query that scans them, and the exported stream's release closes the
 * same reader again when DuckDB lets go of the scan, which can be after the query returns and on one of DuckDB's
 * threads. Arrow's readers do not guard their close: two at once released a buffer twice ("RefCnt has gone
 * negative", seen in LifetimePairingTest). Callers must close this wrapper, never the reader inside.
 */
final class ClosingOnce extends ForwardingArrowReader {
    private boolean closed;

    private ClosingOnce(ArrowReader reader, BufferAllocator allocator) {
        super(reader, allocator);
    }

    static ArrowReader of(ArrowReader reader, BufferAllocator allocator) {
        return reader instanceof ClosingOnce ? reader : new ClosingOnce(reader, allocator);
    }

    @Override
    public synchronized void close(boolean closeReadSource) throws IOException {
        if (closed) return;
        closed = true;
        delegate.close(closeReadSource);
    }
}
