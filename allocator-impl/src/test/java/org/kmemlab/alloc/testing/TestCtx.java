package org.kmemlab.alloc.testing;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.SimpleExecContext;

/**
 * The upper-half tests' context: core's {@link SimpleExecContext} with frame recording on (every frame
 * entered, the stack under each lock), with the fluent setters returning this type.
 */
public final class TestCtx extends SimpleExecContext {
    public TestCtx(CostTable costs) {
        super(0, 1, costs);
        recordFrames(true);
    }

    public TestCtx() { this(new CostTable()); }

    @Override public TestCtx cpu(int c) { super.cpu(c); return this; }
    @Override public TestCtx stallWork(boolean v) { super.stallWork(v); return this; }
    @Override public TestCtx scope(long m) { super.scope(m); return this; }
    @Override public TestCtx atomic(boolean v) { super.atomic(v); return this; }
}
