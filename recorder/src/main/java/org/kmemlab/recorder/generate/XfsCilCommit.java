package org.kmemlab.recorder.generate;

import java.util.List;

/**
 * Seed 001 (XFS "xlog_cil_kvmalloc", 2021): every CPU commits transactions that log large objects.
 * {@code xlog_cil_commit()} ({@code fs/xfs/xfs_log_cil.c}, 5.14) allocates a shadow log-vector buffer per
 * item with {@code kvmalloc(buf_size, GFP_KERNEL)} under the transaction's {@code memalloc_nofs_save} scope,
 * and copies the item's logged regions into it ({@code memcpy_erms}); the log vectors stay in the CIL
 * until its checkpoint is written, and at the checkpoint's I/O completion {@code xlog_cil_committed()}
 * frees them all ({@code xlog_cil_free_logvec} → {@code kvfree}, in an unbound kworker). Traced, that is a
 * {@code kmem:kmalloc_node} from {@code kvmalloc_node+0x…} with the flags kvmalloc_node() passes down
 * ({@code GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY}, node -1), the copy as {@code kmemlab:cpu_work}, and a
 * {@code kmem:kfree} from {@code kvfree+0x…}. Freeing each buffer right after its commit instead would
 * hand the same order-4 block straight back to the next commit, and no commit would ever need compaction:
 * the CIL's many live buffers are what exhaust the free order-4 blocks.
 *
 * <p>The chains follow the seed's perf profile, where {@code xlog_cil_alloc_shadow_bufs()} and
 * {@code xlog_cil_insert_format_items()} are inlined into {@code xlog_cil_commit} (the profile shows
 * {@code kvmalloc_node} and {@code memcpy_erms} directly under it). Three in four committers are
 * {@code fs_mark} threads creating files ({@code xfs_create}); the rest are unbound kworkers converting
 * unwritten extents at I/O completion ({@code xfs_end_io} → {@code xfs_iomap_write_unwritten}).
 *
 * <p>Commits follow each other with a short gap, shorter than an allocation that enters compaction, so the
 * CPUs are saturated and a replay's commits per second are set by the allocator's cost. Memory is aged so
 * that order-4 blocks are rare (hint {@code replay.fragmentation}).
 */
final class XfsCilCommit implements Scenario {
    @Override public String name() { return "xfs-cil-commit"; }

    @Override public String description() {
        return "seed 001: ~12 CPUs of XFS transaction commits, each kvmalloc'ing a 64 KiB CIL shadow buffer, copying into it and kvfree'ing it, on fragmented memory";
    }

    @Override public List<Param> params() {
        return List.of(new Param("kernel", "5.14.0", "kernel release (GFP layout, event names)"),
                new Param("cpus", "12", "CPUs, one committing task each"),
                new Param("commits", "120", "transaction commits per CPU"),
                new Param("size", "65536", "shadow buffer bytes per commit (kvmalloc size)"),
                new Param("gapNs", "1500", "other transaction work between two commits on a CPU"),
                new Param("cil", "600", "commits per CIL checkpoint (their buffers are kvfree'd when it completes)"),
                new Param("memory", "256M", "machine memory (replay.memoryBytes)"),
                new Param("fragmentation", "0.95", "unusable free index at order 9 after aging (replay.fragmentation)"),
                new Param("used", "0.6", "fraction of memory in reclaimable use at start (replay.used)"));
    }

    static final List<String> CREATE = List.of("__xfs_trans_commit", "xfs_trans_commit", "xfs_create", "xfs_generic_create",
            "path_openat", "do_filp_open", "do_sys_openat2", "__x64_sys_openat", "do_syscall_64", "entry_SYSCALL_64_after_hwframe");
    static final List<String> ENDIO = List.of("__xfs_trans_commit", "xfs_trans_commit", "xfs_iomap_write_unwritten", "xfs_end_ioend",
            "xfs_end_io", "process_one_work", "worker_thread", "kthread", "ret_from_fork");

    @Override public void generate(ScenarioParams p, Gen g) {
        int cpus = p.cpus();
        long commits = p.positive("commits");
        long size = p.positive("size");
        long gap = p.positive("gapNs");
        long cil = p.positive("cil");
        long mem = p.positive("memory");
        double frag = p.fraction("fragmentation");
        double used = p.fraction("used");
        g.meta(org.kmemlab.trace.TraceSchema.META_NR_CPUS, Integer.toString(cpus));
        g.hint("replay.kvmallocSites", "kvmalloc_node");
        g.hint("replay.memoryBytes", Long.toString(mem));
        g.hint("replay.fragmentation", Double.toString(frag));
        g.hint("replay.used", Double.toString(used));
        g.snapshot("meminfo", Gen.meminfo(mem, (long) (mem * (1 - used) * 0.9), (long) (mem * used)));
        long gfp = g.gfp("GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY");
        // kmalloc_large_node: PAGE_SIZE << get_order(size)
        long alloc = Math.max(4096, Long.highestOneBit(size - 1) << 1);
        int fsMark = g.newPid();
        // the CIL: buffers committed since the last checkpoint, freed together when it completes
        java.util.ArrayDeque<Long> inCil = new java.util.ArrayDeque<>();
        Gen.Task push = g.kthread("kworker/u64:" + (cpus / 4 + 2), cpus - 1);
        List<String> free = Gen.chain(PUSH, "kfree", "kvfree", "xlog_cil_free_logvec");
        for (int c = 0; c < cpus; c++) {
            boolean kworker = c % 4 == 3;
            Gen.Task t = kworker ? g.kthread("kworker/u64:" + (c / 4 + 1), c) : g.thread(fsMark, "fs_mark", c);
            List<String> tail = kworker ? ENDIO : CREATE;
            List<String> kv = Gen.chain(tail, "__kmalloc_node", "kvmalloc_node", "xlog_cil_commit");
            List<String> copy = Gen.chain(tail, "memcpy_erms", "xlog_cil_commit");
            g.start(new Gen.Actor() {
                long left = commits;

                @Override protected long step(Gen g, long now) {
                    long ptr = g.kmalloc(t, now, "kvmalloc_node", size, alloc, gfp, -1, kv);
                    long t1 = now + g.jitter(900, 0.3);
                    // the logged regions fill most of the buffer; memcpy_erms moves ~10 GB/s
                    long bytes = size - g.rng.nextLong(size / 8 + 1);
                    g.cpuWork(t, t1, "memcpy_erms", bytes, copy);
                    long t2 = t1 + g.jitter(bytes / 10, 0.1);
                    inCil.add(ptr);
                    if (inCil.size() >= cil) {
                        // xlog_cil_push_work writes the checkpoint; at its I/O completion every log vector goes
                        long ts = t2 + g.jitter(200_000, 0.3);
                        for (long b : inCil) {
                            g.kfree(push, ts, "kvfree", b, alloc, free);
                            ts += g.jitter(400, 0.3);
                        }
                        inCil.clear();
                    }
                    return --left > 0 ? t2 + g.jitter(gap, 0.4) : -1;
                }
            }, g.t0 + g.rng.nextLong(20_000));
        }
        // the last checkpoint, after the last commit
        g.at(g.t0 + commits * (gap * 2 + 8_000) + 1_000_000, now -> {
            long ts = now;
            for (long b : inCil) {
                g.kfree(push, ts, "kvfree", b, alloc, free);
                ts += g.jitter(400, 0.3);
            }
            inCil.clear();
        });
    }

    static final List<String> PUSH = List.of("xlog_cil_committed", "xlog_cil_process_committed", "xlog_state_do_callback",
            "xlog_ioend_work", "process_one_work", "worker_thread", "kthread", "ret_from_fork");
}
