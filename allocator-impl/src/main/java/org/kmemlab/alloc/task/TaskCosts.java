package org.kmemlab.alloc.task;

import org.kmemlab.alloc.core.CostTable;

/**
 * Costs of the work around allocations that seed traces replay beside them: the CPU work an allocation is
 * made for ({@code kmemlab:cpu_work}, e.g. XFS copying log vectors with {@code memcpy_erms}) and the cgroup
 * operations that create and destroy per-memcg caches ({@code cgroup_mkdir()}, {@code cgroup_rmdir()} of
 * {@code kernel/cgroup/cgroup.c}). Documented in COSTS-task.md.
 */
public final class TaskCosts {
    private TaskCosts() {}

    public static final String MEMCPY_PER_KIB = "cpu.memcpy_per_kib";
    public static final String CGROUP_MKDIR = "cgroup.mkdir";
    public static final String CGROUP_RMDIR = "cgroup.rmdir";

    static {
        CostTable.define(MEMCPY_PER_KIB, 137, "published: rep movsb (memcpy_erms' instruction) at 15 GB/s counting read+write, "
                + "i7-6700HQ, 1 GiB buffers (stackoverflow.com/q/43343231): 7.5 B/ns copied, 1024 B / 7.5 = 137 ns");
        CostTable.define(CGROUP_MKDIR, 20_000, "modeling default: cgroup_mkdir under cgroup_mutex: kernfs node, css allocation "
                + "and online for each controller");
        CostTable.define(CGROUP_RMDIR, 10_000, "modeling default: cgroup_rmdir/cgroup_destroy_locked under cgroup_mutex: "
                + "kill css, kernfs removal (the memcg cache teardown is charged by the slab model)");
    }

    /** Registers the entries (class initialisation does it; call before {@link CostTable#get}). */
    public static void init() {}
}
