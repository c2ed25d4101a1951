package org.kmemlab.trace;

import java.util.List;

/** Where importers and generators deliver events. The event instance may be reused after the call. */
public interface EventSink {
    void accept(TraceEvent e);

    /** Registers a call chain (innermost frame first) and returns its stack id, reusing ids of equal chains. */
    int stack(List<String> frames);
}
