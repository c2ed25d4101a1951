package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;

/**
 * What {@code mm/oom_kill.c out_of_memory()} does when the page allocator asks for it. The model owns no
 * tasks, so the replayer decides: kill a simulated task and free its pages (return true), or report that no
 * task was eligible (false).
 */
@FunctionalInterface
public interface OomHandler {
    boolean outOfMemory(ExecContext ctx, int order, long gfp);
}
