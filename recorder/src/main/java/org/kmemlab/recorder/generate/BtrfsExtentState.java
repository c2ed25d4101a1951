package org.kmemlab.recorder.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Seed 002 (btrfs "Use mempools for extent_state structures", 2011, and Andi Kleen's ABBA objection), on a
 * 3.2 kernel ({@code fs/btrfs/extent_io.c}). Three phases:
 *
 * <ol>
 * <li>Churn: {@code fio} writer threads lock and unlock extent ranges. {@code set_extent_bit()} takes a
 * preallocated state ({@code alloc_extent_state(GFP_NOFS)}) and, when it splits a state while holding the
 * tree's spinlock, one more with {@code GFP_ATOMIC}; {@code clear_extent_bit()} frees them
 * ({@code free_extent_state} → {@code kmem_cache_free}). Tree blocks come and go through
 * {@code __alloc_extent_buffer}/{@code __free_extent_buffer} (cache {@code extent_buffer}).</li>
 * <li>Exhaustion: a {@code stress-ng-vm} worker faults in anonymous pages until memory is gone
 * ({@code kmem:mm_page_alloc} order 0, GFP_HIGHUSER_MOVABLE|__GFP_ZERO, never freed), nothing being reclaimable
 * ({@code replay.used=0}).</li>
 * <li>ABBA: writeback workers ({@code btrfs-delalloc-N}) take extent_states and then, still holding them,
 * an extent_buffer to COW the tree; end-io workers ({@code btrfs-endio-wri-N}) take an extent_buffer and
 * then an extent_state, holding one object of each pool at a time. There are as many workers as the slabs
 * could still serve without a new page (the peak number of objects the churn had live, plus a slab's worth
 * per CPU, plus the reserve) or {@code workers}, whichever is more, so once memory
 * is exhausted the first allocations drain both pools and the second ones wait on each other.</li>
 * </ol>
 *
 * Hints: {@code replay.mempoolCaches=extent_buffer} (the second pool; {@code btrfs-extent-mempool} puts
 * extent_state behind its own pool), {@code mempool.minNr}, a small machine ({@code replay.memoryBytes})
 * with nothing reclaimable. Under {@code baseline} the extent_state allocations fail (btrfs BUG_ON()s);
 * under {@code btrfs-extent-mempool} the workers deadlock. kmem_cache_alloc printed no cache name before
 * 6.x; the generated trace prints {@code name=} anyway, as the replay routes mempools by cache.
 */
final class BtrfsExtentState implements Scenario {
    @Override public String name() { return "btrfs-extent-state"; }

    @Override public String description() {
        return "seed 002: extent_state churn from many threads, memory driven to exhaustion, then workers taking extent_state and extent_buffer in opposite orders";
    }

    @Override public List<Param> params() {
        return List.of(new Param("kernel", "3.2.0", "kernel release (GFP layout, event names)"),
                new Param("cpus", "8", "CPUs"),
                new Param("threads", "16", "fio writer threads churning extent_state"),
                new Param("ops", "150", "lock/unlock operations per writer thread"),
                new Param("workers", "8", "at least this many workers of each ABBA class (delalloc, endio)"),
                new Param("minNr", "4", "mempool reserve per pool (mempool.minNr)"),
                new Param("memory", "128M", "machine memory (replay.memoryBytes)"),
                new Param("hogExtra", "256", "pages the memory hog asks for beyond the machine's memory"));
    }

    static final String STATE = "extent_state", EB = "extent_buffer";
    static final int STATE_SIZE = 72, EB_SIZE = 224;

    static final List<String> WRITE = List.of("lock_extent_bits", "__extent_writepage", "extent_write_cache_pages",
            "extent_writepages", "btrfs_writepages", "do_writepages", "__filemap_fdatawrite_range", "filemap_fdatawrite_range",
            "btrfs_fdatawrite_range", "btrfs_sync_file", "vfs_fsync_range", "do_fsync", "sys_fdatasync", "system_call_fastpath");
    static final List<String> UNLOCK = List.of("unlock_extent", "extent_writepages", "btrfs_writepages", "do_writepages",
            "__filemap_fdatawrite_range", "filemap_fdatawrite_range", "btrfs_fdatawrite_range", "btrfs_sync_file",
            "vfs_fsync_range", "do_fsync", "sys_fdatasync", "system_call_fastpath");
    static final List<String> COW = List.of("btrfs_find_create_tree_block", "btrfs_init_new_buffer", "btrfs_alloc_free_block",
            "__btrfs_cow_block", "btrfs_cow_block", "btrfs_search_slot", "btrfs_insert_empty_items", "insert_reserved_file_extent");
    static final List<String> DELALLOC = List.of("cow_file_range", "async_cow_start", "worker_loop", "kthread", "kernel_thread_helper");
    static final List<String> ENDIO = List.of("btrfs_finish_ordered_io", "finish_ordered_fn", "worker_loop", "kthread", "kernel_thread_helper");
    static final List<String> FAULT = List.of("alloc_pages_vma", "do_anonymous_page", "handle_pte_fault", "handle_mm_fault",
            "do_page_fault", "page_fault");

    @Override public void generate(ScenarioParams p, Gen g) {
        int cpus = p.cpus();
        int threads = (int) p.positive("threads");
        long ops = p.positive("ops");
        int workers = (int) p.positive("workers");
        long minNr = p.num("minNr");
        long mem = p.positive("memory");
        long hogExtra = p.num("hogExtra");
        g.meta(org.kmemlab.trace.TraceSchema.META_NR_CPUS, Integer.toString(cpus));
        g.hint("replay.mempoolCaches", EB);
        g.hint("mempool.minNr", Long.toString(minNr));
        g.hint("replay.memoryBytes", Long.toString(mem));
        g.hint("replay.used", "0.0");
        g.hint("replay.fragmentation", "0.0");
        g.snapshot("meminfo", Gen.meminfo(mem, mem * 9 / 10, 0));
        long nofs = g.gfp("GFP_NOFS"), atomic = g.gfp("GFP_ATOMIC");
        // an anonymous fault: vma_alloc_zeroed_movable_folio(), so zeroed; page cache would be reclaimable
        long movable = g.gfp("GFP_HIGHUSER_MOVABLE|__GFP_ZERO");
        List<String> setBit = Gen.chain(WRITE, "kmem_cache_alloc", "alloc_extent_state", "set_extent_bit");
        List<String> split = Gen.chain(WRITE, "kmem_cache_alloc", "alloc_extent_state", "split_state", "set_extent_bit");
        List<String> clearBit = Gen.chain(UNLOCK, "kmem_cache_free", "free_extent_state", "clear_extent_bit");
        List<String> ebAlloc = Gen.chain(COW, "kmem_cache_alloc", "__alloc_extent_buffer", "alloc_extent_buffer");
        List<String> ebFree = Gen.chain(List.of("free_extent_buffer", "btrfs_release_path", "btrfs_free_path",
                "insert_reserved_file_extent"), "kmem_cache_free", "__free_extent_buffer");
        int fio = g.newPid();
        long[] churnEnd = {g.t0};
        // Phase 1: churn
        for (int i = 0; i < threads; i++) {
            Gen.Task t = g.thread(fio, "fio", i % cpus);
            long start = g.t0 + g.rng.nextLong(50_000);
            g.start(new Gen.Actor() {
                long left = ops;

                @Override protected long step(Gen g, long now) {
                    List<Long> held = new ArrayList<>();
                    long ts = now;
                    held.add(g.cacheAlloc(t, ts, "alloc_extent_state", STATE, STATE_SIZE, STATE_SIZE, nofs, setBit));
                    int more = g.rng.nextInt(3);
                    for (int k = 0; k < more; k++) {
                        ts += g.jitter(400, 0.5);
                        held.add(g.cacheAlloc(t, ts, "alloc_extent_state", STATE, STATE_SIZE, STATE_SIZE, atomic, split));
                    }
                    long eb = -1;
                    if (g.rng.nextInt(4) == 0) {
                        ts += g.jitter(800, 0.5);
                        eb = g.cacheAlloc(t, ts, "__alloc_extent_buffer", EB, EB_SIZE, EB_SIZE, nofs, ebAlloc);
                    }
                    ts += g.jitter(30_000, 0.6);
                    if (eb >= 0) {
                        g.cacheFree(t, ts, "__free_extent_buffer", EB, eb, EB_SIZE, ebFree);
                        ts += g.jitter(300, 0.5);
                    }
                    for (long s : held) {
                        g.cacheFree(t, ts, "free_extent_state", STATE, s, STATE_SIZE, clearBit);
                        ts += g.jitter(250, 0.5);
                    }
                    churnEnd[0] = Math.max(churnEnd[0], ts);
                    return --left > 0 ? ts + g.jitter(20_000, 0.8) : -1;
                }
            }, start);
        }
        // Phase 2: exhaustion, after the churn (an estimate of its end: ops × the mean step)
        long hogStart = g.t0 + ops * 56_000L + 200_000;
        long pages = mem / 4096 + hogExtra;
        Gen.Task hog = g.kthread("stress-ng-vm", 0);
        List<String> fault = Gen.chain(FAULT, "__alloc_pages_nodemask");
        long perStep = 64;
        g.start(new Gen.Actor() {
            long left = pages;
            int cpu;

            @Override protected long step(Gen g, long now) {
                long ts = now;
                Gen.Task on = hog.on(cpu);
                for (int k = 0; k < perStep && left > 0; k++, left--) {
                    g.pageAlloc(on, ts, 0, 1, movable, fault);
                    ts += g.jitter(250, 0.3);
                }
                cpu = (cpu + 1) % cpus;
                return left > 0 ? ts + g.jitter(2_000, 0.5) : -1;
            }
        }, hogStart);
        long abbaStart = hogStart + (pages / perStep + 1) * 20_000L + 1_000_000;
        // Phase 3: ABBA, sized from what the churn left in the slabs
        g.at(abbaStart, now -> {
            // One object per pool and worker, as in Andi Kleen's example: a worker holding several objects of
            // the pool it waits on would deadlock alone (the bio_set case), which is not the ABBA one.
            long bound = Math.max(g.peakLive(STATE), g.peakLive(EB)) + 64L * (cpus + 1) + minNr;
            int per = 1;
            int n = (int) Math.max(workers, bound);
            for (int w = 0; w < n; w++) {
                Gen.Task x = g.kthread("btrfs-delalloc-" + (w + 1), w % cpus);
                Gen.Task y = g.kthread("btrfs-endio-wri-" + (w + 1), (w + cpus / 2) % cpus);
                abba(g, x, now + g.rng.nextLong(50_000), per, true, setBit, split, clearBit, ebAlloc, ebFree, nofs, DELALLOC);
                abba(g, y, now + g.rng.nextLong(50_000), per, false, setBit, split, clearBit, ebAlloc, ebFree, nofs, ENDIO);
            }
        });
    }

    /** One worker: {@code per} objects of its first pool, then (holding them) {@code per} of the other, then frees. */
    private static void abba(Gen g, Gen.Task t, long at, int per, boolean stateFirst, List<String> setBit, List<String> split,
                             List<String> clearBit, List<String> ebAlloc, List<String> ebFree, long nofs, List<String> ctx) {
        List<String> sb = retail(setBit, ctx), cb = retail(clearBit, ctx), ea = retail(ebAlloc, ctx), ef = retail(ebFree, ctx);
        g.at(at, now -> {
            long ts = now;
            List<Long> states = new ArrayList<>(), ebs = new ArrayList<>();
            for (int phase = 0; phase < 2; phase++) {
                boolean state = (phase == 0) == stateFirst;
                for (int k = 0; k < per; k++) {
                    if (state) states.add(g.cacheAlloc(t, ts, "alloc_extent_state", STATE, STATE_SIZE, STATE_SIZE, nofs, sb));
                    else ebs.add(g.cacheAlloc(t, ts, "__alloc_extent_buffer", EB, EB_SIZE, EB_SIZE, nofs, ea));
                    ts += g.jitter(600, 0.5);
                }
                ts += g.jitter(200_000, 0.3);
            }
            for (long e : ebs) { g.cacheFree(t, ts, "__free_extent_buffer", EB, e, EB_SIZE, ef); ts += g.jitter(300, 0.5); }
            for (long s : states) { g.cacheFree(t, ts, "free_extent_state", STATE, s, STATE_SIZE, cb); ts += g.jitter(300, 0.5); }
        });
    }

    /** The chain's allocator frames on top of a worker's own context instead of the writer's. */
    private static List<String> retail(List<String> chain, List<String> ctx) {
        List<String> l = new ArrayList<>();
        for (String f : chain) {
            l.add(f);
            if (f.equals("set_extent_bit") || f.equals("clear_extent_bit") || f.equals("alloc_extent_buffer") || f.equals("__free_extent_buffer")) break;
        }
        l.addAll(ctx);
        return List.copyOf(l);
    }
}
