package org.kmemlab.alloc.page;

/**
 * A machine the model cannot hold: more pfns than its int-indexed page arrays reach, or page arrays larger
 * than the heap the JVM has left. An IllegalArgumentException, because the size comes from the caller (a
 * snapshot of a large production machine, or a memory size asked for); the CLI reports it as bad input in
 * one line instead of an OutOfMemoryError in the middle of a replay.
 */
public final class MachineTooLargeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final boolean heap;

    /** {@code heap}: a larger heap would hold it (as opposed to the pfn space, which no heap extends). */
    public MachineTooLargeException(String message, boolean heap) {
        super(message);
        this.heap = heap;
    }

    public boolean heapBound() { return heap; }
}
