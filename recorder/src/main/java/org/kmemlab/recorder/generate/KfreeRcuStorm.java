package org.kmemlab.recorder.generate;

import java.util.List;

/**
 * Seed 003 (RFC "mm: Add __GFP_FAST_TRY flag", 2020, on 5.8): {@code kfree_rcu()} stores pointers in
 * per-CPU page-sized blocks and needs a fresh page whenever a block fills, from under a raw spinlock. The
 * load is the one the RFC's author measured with ({@code kernel/rcu/rcuperf.c} {@code kfree_perf_thread}, one
 * kthread per CPU): {@code kmalloc(sizeof(struct kfree_obj))} (8 bytes of payload and an rcu_head at offset
 * 8: kmalloc-32) then {@code kfree_rcu(obj, rh)}, traced as {@code rcu:rcu_kvfree_callback} with
 * {@code rhp} = object + 8. Beside it, {@code stress-ng-vm} workers fault in order-0 pages in bursts larger
 * than a pcp batch and free them in bursts, so the per-CPU lists the kfree_rcu blocks come from drain and
 * refill ({@code rmqueue_bulk} under zone->lock).
 *
 * <p>The later {@code kfree} of each object by {@code kfree_rcu_work} is not written: the replayer derives it
 * from the callback (SCHEMA.md, "Events beyond kmem.h").
 */
final class KfreeRcuStorm implements Scenario {
    @Override public String name() { return "kfree-rcu-storm"; }

    @Override public String description() {
        return "seed 003: kfree_rcu() storms from every CPU (rcuperf kfree_perf_thread) while page-fault bursts drain the pcp lists";
    }

    @Override public List<Param> params() {
        return List.of(new Param("kernel", "5.8.0", "kernel release (GFP layout, event names)"),
                new Param("cpus", "8", "CPUs, one kfree_perf_thread each"),
                new Param("loops", "40", "rounds per thread"),
                new Param("objects", "64", "objects kmalloc'ed then kfree_rcu'ed per round (kfree_alloc_num)"),
                new Param("burstPages", "96", "order-0 pages per fault burst (more than the pcp batch of 63)"),
                new Param("bursts", "40", "fault bursts per page-hog worker"),
                new Param("hogs", "2", "page-hog workers"),
                new Param("memory", "2G", "machine memory (replay.memoryBytes)"),
                new Param("used", "0.3", "fraction of memory in reclaimable use at start (replay.used)"));
    }

    static final List<String> PERF = List.of("kfree_perf_thread", "kthread", "ret_from_fork");
    static final List<String> FAULT = List.of("alloc_pages_vma", "do_anonymous_page", "__handle_mm_fault", "handle_mm_fault",
            "do_user_addr_fault", "exc_page_fault", "asm_exc_page_fault");
    static final List<String> UNMAP = List.of("release_pages", "tlb_flush_mmu", "tlb_finish_mmu", "unmap_region", "__do_munmap",
            "__vm_munmap", "__x64_sys_munmap", "do_syscall_64", "entry_SYSCALL_64_after_hwframe");

    @Override public void generate(ScenarioParams p, Gen g) {
        int cpus = p.cpus();
        long loops = p.positive("loops");
        int objects = (int) p.positive("objects");
        int burst = (int) p.positive("burstPages");
        long bursts = p.num("bursts");
        int hogs = (int) p.num("hogs");
        long mem = p.positive("memory");
        double used = p.fraction("used");
        g.meta(org.kmemlab.trace.TraceSchema.META_NR_CPUS, Integer.toString(cpus));
        g.hint("replay.memoryBytes", Long.toString(mem));
        g.hint("replay.used", Double.toString(used));
        g.snapshot("meminfo", Gen.meminfo(mem, (long) (mem * (1 - used) * 0.9), (long) (mem * used)));
        long kernel = g.gfp("GFP_KERNEL");
        long movable = g.gfp("GFP_HIGHUSER_MOVABLE|__GFP_ZERO");
        List<String> alloc = Gen.chain(PERF, "__kmalloc");
        List<String> rcu = Gen.chain(PERF, "kvfree_call_rcu");
        for (int c = 0; c < cpus; c++) {
            Gen.Task t = g.kthread("kfree_perf_thread", c);
            g.start(new Gen.Actor() {
                long left = loops;
                long qlen;

                @Override protected long step(Gen g, long now) {
                    long ts = now;
                    long[] objs = new long[objects];
                    for (int i = 0; i < objects; i++) {
                        objs[i] = g.kmalloc(t, ts, "kfree_perf_thread", 16, 32, kernel, Integer.MIN_VALUE, alloc);
                        ts += g.jitter(120, 0.4);
                    }
                    for (int i = 0; i < objects; i++) {
                        g.kvfreeRcu(t, ts, objs[i], 8, ++qlen, rcu);
                        ts += g.jitter(90, 0.4);
                    }
                    // a grace period or so later kfree_rcu_work has emptied this CPU's queue
                    if (g.rng.nextInt(4) == 0) qlen = 0;
                    return --left > 0 ? ts + g.jitter(20_000, 0.5) : -1;
                }
            }, g.t0 + g.rng.nextLong(10_000));
        }
        List<String> fault = Gen.chain(FAULT, "__alloc_pages_nodemask");
        List<String> unmap = Gen.chain(UNMAP, "free_unref_page_list");
        int vm = g.newPid();
        for (int h = 0; h < hogs; h++) {
            Gen.Task t = g.thread(vm, "stress-ng-vm", (h * 3 + 1) % cpus);
            g.start(new Gen.Actor() {
                long left = bursts;

                @Override protected long step(Gen g, long now) {
                    long ts = now;
                    long[] pfns = new long[burst];
                    for (int i = 0; i < burst; i++) {
                        pfns[i] = g.pageAlloc(t, ts, 0, 1, movable, fault);
                        ts += g.jitter(300, 0.3);
                    }
                    ts += g.jitter(100_000, 0.5);
                    for (int i = 0; i < burst; i++) {
                        g.pageFree(t, ts, pfns[i], 0, unmap);
                        ts += g.jitter(80, 0.3);
                    }
                    return --left > 0 ? ts + g.jitter(50_000, 0.5) : -1;
                }
            }, g.t0 + g.rng.nextLong(30_000));
        }
    }
}
