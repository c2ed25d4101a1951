package org.kmemlab.recorder.generate;

import java.util.List;

/**
 * Seed 000 (SPL "Emergency slab objects", 2012): ZFS writeback on a 3.5 kernel. Each transaction group,
 * {@code txg_sync} ({@code spa_sync} → {@code dbuf_sync_leaf}) copies still-referenced dirty buffers into
 * fresh {@code zio_data_buf_131072} objects, the {@code z_wr_iss} taskq threads compress every block into a
 * {@code zio_buf_131072} buffer ({@code zio_write_compress} → {@code zio_buf_alloc}), and the
 * {@code z_wr_int} threads free both at I/O completion ({@code zio_done}). These allocations run with
 * {@code KM_PUSHPAGE} = {@code GFP_NOIO|__GFP_HIGH} (the writeback path must not recurse into the
 * filesystem), and the SPL caches behind them are vmalloc-backed ({@code KMC_VMEM}: 128 KiB objects), so
 * growing them means {@code __vmalloc()} in writeback: the deadlock the seed works around. SPL has no
 * tracepoints: its allocations are written as {@code kmem:kmem_cache_alloc/free} with the SPL cache's name,
 * which the replayer routes to its SPL model ({@code replay.splCaches}).
 *
 * <p>Meanwhile {@code rsync} fills the page cache of another filesystem ({@code kmem:mm_page_alloc}, order 0,
 * movable, {@code GFP_HIGHUSER_MOVABLE}) on a machine whose memory is mostly page cache already
 * ({@code replay.used}), so the caches grow under memory pressure.
 */
final class SplWriteback implements Scenario {
    @Override public String name() { return "spl-writeback"; }

    @Override public String description() {
        return "seed 000: ZFS txg_sync / z_wr_iss / z_wr_int writeback growing vmalloc-backed SPL caches under NOIO, with dirty page cache filling memory";
    }

    @Override public List<Param> params() {
        return List.of(new Param("kernel", "3.5.0", "kernel release (GFP layout, event names)"),
                new Param("cpus", "8", "CPUs (one z_wr_iss and one z_wr_int thread each)"),
                new Param("txgs", "10", "transaction groups synced"),
                new Param("blocks", "96", "blocks written per transaction group"),
                new Param("blockSize", "131072", "bytes per block: the zio_buf_N / zio_data_buf_N caches (recordsize, or a zvol's volblocksize)"),
                new Param("copyEvery", "3", "one block in N is still referenced and copied by txg_sync (0: none, a streaming write)"),
                new Param("ioNs", "4000000", "write latency: z_wr_int frees a block's buffers this long after z_wr_iss allocated them"),
                new Param("txgNs", "100000000", "time between two transaction groups"),
                new Param("dirtyPages", "2048", "page-cache pages rsync dirties per transaction group"),
                new Param("memory", "512M", "machine memory (replay.memoryBytes)"),
                new Param("used", "0.9", "fraction of memory in page cache at start (replay.used)"),
                new Param("fragmentation", "0.5", "unusable free index at order 9 after aging (replay.fragmentation)"),
                new Param("fsDirtyPages", "20000", "dirty ZFS pages only txg_sync can write back (replay.fsDirtyPages)"));
    }

    static final List<String> SYNC_DONE = List.of("vdev_config_sync", "spa_sync", "txg_sync_thread", "thread_generic_wrapper", "kthread",
            "kernel_thread_helper");
    static final List<String> ISS = List.of("zio_write_compress", "zio_execute", "taskq_thread", "kthread", "kernel_thread_helper");
    static final List<String> INT = List.of("zio_done", "zio_execute", "taskq_thread", "kthread", "kernel_thread_helper");
    static final List<String> SYNC = List.of("arc_buf_alloc", "dbuf_sync_leaf", "dbuf_sync_list", "dnode_sync", "dmu_objset_sync_dnodes",
            "dmu_objset_sync", "dsl_dataset_sync", "dsl_pool_sync", "spa_sync", "txg_sync_thread", "thread_generic_wrapper", "kthread",
            "kernel_thread_helper");
    static final List<String> WRITE = List.of("__alloc_pages_nodemask", "alloc_pages_current", "__page_cache_alloc",
            "grab_cache_page_write_begin", "ext4_da_write_begin", "generic_file_buffered_write", "__generic_file_aio_write",
            "generic_file_aio_write", "ext4_file_write", "do_sync_write", "vfs_write", "sys_write", "system_call_fastpath");

    @Override public void generate(ScenarioParams p, Gen g) {
        int cpus = p.cpus();
        long txgs = p.positive("txgs");
        int blocks = (int) p.positive("blocks");
        int size = (int) p.positive("blockSize");
        if (size > (16 << 20)) throw new IllegalArgumentException("scenario spl-writeback: blockSize=" + size + " is more than 16M");
        long copyEvery = p.num("copyEvery");
        if (copyEvery < 0) throw new IllegalArgumentException("scenario spl-writeback: copyEvery=" + copyEvery + " must be 0 or more");
        long ioNs = p.positive("ioNs");
        String buf = "zio_buf_" + size, dataBuf = "zio_data_buf_" + size;
        long txgNs = p.positive("txgNs");
        long dirty = p.num("dirtyPages");
        long mem = p.positive("memory");
        double used = p.fraction("used");
        double frag = p.fraction("fragmentation");
        long fsDirty = p.num("fsDirtyPages");
        g.meta(org.kmemlab.trace.TraceSchema.META_NR_CPUS, Integer.toString(cpus));
        g.hint("replay.splCaches", buf + ":" + size + "," + dataBuf + ":" + size);
        g.hint("replay.writebackTasks", "txg_sync");
        g.hint("replay.memoryBytes", Long.toString(mem));
        g.hint("replay.used", Double.toString(used));
        g.hint("replay.fragmentation", Double.toString(frag));
        // Without dirty pages that only txg_sync can write, reclaim never has to wait for it: no deadlock to show.
        g.hint("replay.fsDirtyPages", Long.toString(fsDirty));
        g.snapshot("meminfo", Gen.meminfo(mem, (long) (mem * (1 - used) * 0.8), (long) (mem * used)));
        long pushpage = g.gfp("GFP_NOIO") | g.gfp("__GFP_HIGH");
        long movable = g.gfp("GFP_HIGHUSER_MOVABLE");
        Gen.Task sync = g.kthread("txg_sync", 0);
        Gen.Task[] iss = new Gen.Task[cpus], done = new Gen.Task[cpus];
        for (int c = 0; c < cpus; c++) iss[c] = g.kthread("z_wr_iss/" + c, c);
        for (int c = 0; c < cpus; c++) done[c] = g.kthread("z_wr_int/" + c, c);
        List<String> syncAlloc = Gen.chain(SYNC, "spl_kmem_cache_alloc", "zio_data_buf_alloc");
        List<String> issAlloc = Gen.chain(ISS, "spl_kmem_cache_alloc", "zio_buf_alloc");
        List<String> freeBuf = Gen.chain(INT, "spl_kmem_cache_free", "zio_buf_free");
        List<String> freeData = Gen.chain(INT, "spl_kmem_cache_free", "zio_data_buf_free", "arc_buf_data_free");
        List<String> syncDone = List.copyOf(SYNC_DONE);
        Gen.Task rsync = g.kthread("rsync", cpus - 1);
        List<String> pageChain = List.copyOf(WRITE);
        // rsync dirties page cache continuously, spread over the txg period
        g.start(new Gen.Actor() {
            long left = dirty * txgs;
            int cpu = cpus - 1;

            @Override protected long step(Gen g, long now) {
                long ts = now;
                for (int k = 0; k < 32 && left > 0; k++, left--) {
                    g.pageAlloc(rsync.on(cpu), ts, 0, 1, movable, pageChain);
                    ts += g.jitter(600, 0.3);
                }
                if (g.rng.nextInt(8) == 0) cpu = g.rng.nextInt(cpus);
                return left > 0 ? ts + g.jitter(Math.max(1, txgNs * 32 / Math.max(1, dirty) - 32 * 600), 0.3) : -1;
            }
        }, g.t0);
        g.start(new Gen.Actor() {
            long txg;

            @Override protected long step(Gen g, long now) {
                long ts = now;
                long lastIssue = now;
                for (int b = 0; b < blocks; b++) {
                    // a still-referenced dirty buffer is copied in syncing context (a third of them by default)
                    // kernel addresses are negative as longs: whether a copy was made is its own flag
                    long data = 0;
                    boolean copied = false;
                    if (copyEvery > 0 && g.rng.nextInt((int) Math.min(copyEvery, Integer.MAX_VALUE)) == 0) {
                        data = g.cacheAlloc(sync, ts, "zio_data_buf_alloc", dataBuf, size, size, pushpage, syncAlloc);
                        copied = true;
                        ts += g.jitter(3_000, 0.3);
                    }
                    int c = g.rng.nextInt(cpus);
                    long issAt = ts + g.jitter(20_000, 0.5);
                    lastIssue = Math.max(lastIssue, issAt);
                    long fd = data;
                    boolean dataCopied = copied;
                    g.at(issAt, at -> {
                        long bp = g.cacheAlloc(iss[c], at, "zio_buf_alloc", buf, size, size, pushpage, issAlloc);
                        long doneAt = at + g.jitter(ioNs, 0.6);
                        int d = g.rng.nextInt(cpus);
                        g.cacheFree(done[d], doneAt, "zio_buf_free", buf, bp, size, freeBuf);
                        if (dataCopied) g.cacheFree(done[d], doneAt + g.jitter(2_000, 0.5), "zio_data_buf_free", dataBuf, fd, size, freeData);
                    });
                    ts += g.jitter(5_000, 0.5);
                }
                // spa_sync returns once every write of the txg is done (the latest completes within 1.6 ioNs of
                // its issue): the uberblock is written and the txg is synced, the progress that txg_wait_open()
                // sleepers wait for.
                g.at(lastIssue + ioNs * 8 / 5 + 10_000, at -> g.cpuWork(sync, at, "vdev_config_sync", 4096, syncDone));
                return ++txg < txgs ? now + g.jitter(txgNs, 0.1) : -1;
            }
        }, g.t0 + g.jitter(txgNs / 2, 0.2));
    }
}
