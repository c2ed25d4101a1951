package org.kmemlab.trace;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * An ArrowReader that hands out another reader's batches, schema and dictionaries, for wrappers that change one
 * thing about it (what a batch load checks, how close behaves). Its own root is never built: the delegate's is the
 * one consumers see. Closing it leaves the delegate open; a subclass that owns the delegate closes it.
 */
public abstract class ForwardingArrowReader extends ArrowReader {
    protected final ArrowReader delegate;

    protected ForwardingArrowReader(ArrowReader delegate, BufferAllocator allocator) {
        super(allocator);
        this.delegate = delegate;
    }

    @Override public boolean loadNextBatch() throws IOException { return delegate.loadNextBatch(); }
    @Override public VectorSchemaRoot getVectorSchemaRoot() throws IOException { return delegate.getVectorSchemaRoot(); }
    @Override public Map<Long, Dictionary> getDictionaryVectors() throws IOException { return delegate.getDictionaryVectors(); }
    @Override public Dictionary lookup(long id) { return delegate.lookup(id); }
    @Override public Set<Long> getDictionaryIds() { return delegate.getDictionaryIds(); }
    @Override public long bytesRead() { return delegate.bytesRead(); }
    @Override protected void closeReadSource() { }
    @Override protected Schema readSchema() throws IOException { return delegate.getVectorSchemaRoot().getSchema(); }
}
