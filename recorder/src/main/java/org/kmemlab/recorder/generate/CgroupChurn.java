package org.kmemlab.recorder.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Seed 004 (slab: asynchronous, batched rcu_barrier() for SLAB_DESTROY_BY_RCU cache release, 2017, on
 * 4.11): a job scheduler runs many short jobs, each in its own memory cgroup. {@code systemd} creates the
 * cgroup ({@code cgroup:cgroup_mkdir}); the job's processes fork, which allocates from the per-memcg copies
 * of the {@code SLAB_DESTROY_BY_RCU} caches {@code sighand_cache} ({@code copy_sighand}) and
 * {@code anon_vma} ({@code anon_vma_fork}), named {@code <root>(<memcg id>:<cgroup name>)} as 4.x
 * {@code /proc/slabinfo} shows them; the job exits and frees them ({@code __cleanup_sighand},
 * {@code put_anon_vma}); and finished cgroups are removed in batches of {@code batch}
 * ({@code cgroup:cgroup_rmdir}), each removal destroying that cgroup's caches under {@code cgroup_mutex}.
 * The memcg id is taken equal to the cgroup id.
 */
final class CgroupChurn implements Scenario {
    @Override public String name() { return "cgroup-churn"; }

    @Override public String description() {
        return "seed 004: short jobs in their own memory cgroups; per-memcg SLAB_DESTROY_BY_RCU caches; cgroups removed in batches of N";
    }

    @Override public List<Param> params() {
        return List.of(new Param("kernel", "4.11.0", "kernel release (GFP layout, event names)"),
                new Param("cpus", "8", "CPUs"),
                new Param("cgroups", "200", "job cgroups created and destroyed"),
                new Param("batch", "20", "cgroups removed per batch (the notebook varies N)"),
                new Param("forks", "4", "processes forked per job"),
                new Param("jobNs", "3000000", "how long a job runs"),
                new Param("memory", "4G", "machine memory (replay.memoryBytes)"));
    }

    static final int SIGHAND = 2112, ANON_VMA = 88;
    static final List<String> FORK = List.of("copy_process.part.0", "_do_fork", "sys_clone", "do_syscall_64", "entry_SYSCALL64_slow_path");
    static final List<String> EXIT = List.of("release_task", "do_exit", "do_group_exit", "SyS_exit_group", "do_syscall_64",
            "entry_SYSCALL64_slow_path");
    static final List<String> MKDIR = List.of("cgroup_mkdir", "kernfs_iop_mkdir", "vfs_mkdir", "SyS_mkdir", "do_syscall_64",
            "entry_SYSCALL64_slow_path");
    static final List<String> RMDIR = List.of("cgroup_rmdir", "kernfs_iop_rmdir", "vfs_rmdir", "do_rmdir", "SyS_rmdir", "do_syscall_64",
            "entry_SYSCALL64_slow_path");

    @Override public void generate(ScenarioParams p, Gen g) {
        int cpus = p.cpus();
        long cgroups = p.positive("cgroups");
        long batch = p.positive("batch");
        long forks = p.positive("forks");
        long jobNs = p.positive("jobNs");
        long mem = p.positive("memory");
        g.meta(org.kmemlab.trace.TraceSchema.META_NR_CPUS, Integer.toString(cpus));
        g.hint("replay.memoryBytes", Long.toString(mem));
        g.snapshot("meminfo", Gen.meminfo(mem, mem * 3 / 4, mem / 8));
        long kernel = g.gfp("GFP_KERNEL");
        Gen.Task systemd = new Gen.Task(1, 1, "systemd", 0);
        List<String> sighandAlloc = Gen.chain(FORK, "kmem_cache_alloc", "copy_sighand");
        List<String> anonAlloc = Gen.chain(FORK, "kmem_cache_alloc", "anon_vma_fork", "dup_mm");
        List<String> sighandFree = Gen.chain(EXIT, "kmem_cache_free", "__cleanup_sighand", "__exit_signal");
        List<String> anonFree = Gen.chain(List.of("unlink_anon_vmas", "free_pgtables", "exit_mmap", "mmput", "do_exit", "do_group_exit",
                "SyS_exit_group", "do_syscall_64", "entry_SYSCALL64_slow_path"), "kmem_cache_free", "put_anon_vma");
        int root = 4; // the memory controller's v1 hierarchy
        long firstId = 40 + g.rng.nextInt(20);
        g.start(new Gen.Actor() {
            long made;
            final List<long[]> finished = new ArrayList<>();

            @Override protected long step(Gen g, long now) {
                long ts = now;
                long id = firstId + made;
                String name = "job-" + id;
                g.cgroup(systemd.on((int) (made % cpus)), ts, "cgroup:cgroup_mkdir", root, id, 2, "/jobs/" + name, MKDIR);
                int jobPid = g.newPid();
                for (int f = 0; f < forks; f++) {
                    Gen.Task t = g.thread(jobPid, f == 0 ? "sh" : "job-worker", g.rng.nextInt(cpus));
                    long at = ts + g.jitter(200_000, 0.5) + f * g.jitter(100_000, 0.5);
                    String sc = "sighand_cache(" + id + ":" + name + ")", ac = "anon_vma(" + id + ":" + name + ")";
                    long sh = g.cacheAlloc(t, at, "copy_sighand", sc, SIGHAND, SIGHAND, kernel, sighandAlloc);
                    long av = g.cacheAlloc(t, at + g.jitter(3_000, 0.5), "anon_vma_fork", ac, ANON_VMA, ANON_VMA, kernel, anonAlloc);
                    long end = at + g.jitter(jobNs, 0.5);
                    g.cacheFree(t, end, "put_anon_vma", ac, av, ANON_VMA, anonFree);
                    g.cacheFree(t, end + g.jitter(5_000, 0.5), "__cleanup_sighand", sc, sh, SIGHAND, sighandFree);
                }
                finished.add(new long[] {id, ts + 2 * jobNs + 1_000_000});
                made++;
                long next = ts + g.jitter(jobNs / 2, 0.5);
                if (finished.size() >= batch || made == cgroups) {
                    // systemd's garbage collection of finished units: one rmdir after another
                    long rt = Math.max(next, finished.get(finished.size() - 1)[1]);
                    for (long[] f : finished) {
                        g.cgroup(systemd.on(0), rt, "cgroup:cgroup_rmdir", root, f[0], 2, "/jobs/job-" + f[0], RMDIR);
                        rt += g.jitter(50_000, 0.5);
                    }
                    finished.clear();
                    next = Math.max(next, rt);
                }
                return made < cgroups ? next : -1;
            }
        }, g.t0);
    }
}
