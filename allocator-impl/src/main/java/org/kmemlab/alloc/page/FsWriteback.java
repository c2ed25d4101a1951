package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;

import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * A filesystem whose dirty data only its own writeback threads can commit — ZFS on Linux, where the
 * {@code txg_sync} thread ({@code module/zfs/txg.c txg_sync_thread()} → {@code spa_sync()}) writes out each
 * transaction group, and where the SPL/vmalloc deadlock of seed 000 lives (allocator-model.md §E.2, kernel
 * bug 30702 "vmalloc(GFP_NOFS) can callback file system evict_inode, inducing deadlock").
 *
 * <p>What it adds to the page allocator:
 * <ul>
 * <li>A page-cache population ({@link #populate}): dirty pages of this filesystem ({@link PhysMem#F_FSOWNED}),
 * which reclaim cannot free and kswapd does not write (their writeback is the txg's), and clean ones, which
 * reclaim frees as usual.</li>
 * <li>The superblock shrinker ({@code sb->s_shrink}, fs/super.c {@code super_cache_count}/{@code super_cache_scan}):
 * it counts the cached inodes and, like {@code super_cache_scan()}, returns SHRINK_STOP without __GFP_FS.
 * With __GFP_FS it evicts inodes: {@code prune_icache_sb} → {@code evict} → {@code zpl_evict_inode} →
 * {@code zfs_inactive}, which assigns a transaction ({@code dmu_tx_assign(tx, TXG_WAIT)}); while the
 * syncing txg still holds dirty data the open txg cannot take it and {@code dmu_tx_wait} →
 * {@code txg_wait_open} sleeps, untimed, until the txg has synced. Only the writeback threads sync it, so a
 * writeback thread that reaches this shrinker (through the GFP_KERNEL page-table allocation of
 * {@code __vmalloc}) waits for itself.</li>
 * <li>{@link #txgSynced}: the writeback threads' progress. The driver calls it when one of them completes a
 * request: the txg it was writing is on disk, its pages are clean, the waiters of {@link #txgWaitQueue} wake.</li>
 * </ul>
 * Nothing here runs on an allocation's fast path: the shrinker runs only inside reclaim.
 */
public final class FsWriteback {
    private final PageAllocator pa;
    /** {@code tx->tx_quiesce_done_cv}: where {@code txg_wait_open()} sleeps. */
    public final Object txgWaitQueue = new Object() {
        @Override public String toString() { return "txg_wait_open (zfs dirty data)"; }
    };
    private long ownedDirty;
    private long syncedTxg;
    private long inodes;
    public long statShrinkerWaits, statShrinkerStops, statTxgSyncs, statPagesCleaned;

    private final Shrinker shrinker = new Shrinker() {
        @Override public String name() { return "super_cache_scan"; }

        @Override public long countObjects(ExecContext ctx, int node, long gfp) { return inodes; }

        @Override
        public long scanObjects(ExecContext ctx, int node, long gfp, long nrToScan) {
            if ((gfp & Gfp.FS) == 0) {
                statShrinkerStops++;
                return SHRINK_STOP;
            }
            ctx.enter("super_cache_scan");
            ctx.enter("prune_icache_sb");
            ctx.enter("dispose_list");
            ctx.enter("evict");
            ctx.enter("zpl_evict_inode");
            ctx.enter("zfs_inactive");
            ctx.enter("dmu_tx_assign");
            if (ownedDirty > 0) {
                ctx.enter("dmu_tx_wait");
                ctx.enter("txg_wait_open");
                long target = syncedTxg + 1;
                statShrinkerWaits++;
                ctx.blocker().waitEvent(ctx, txgWaitQueue, () -> syncedTxg >= target, -1);
                ctx.exit();
                ctx.exit();
            }
            for (int i = 0; i < 7; i++) ctx.exit();
            long n = Math.min(nrToScan, inodes);
            inodes -= n;
            return n;
        }
    };

    /** {@code inodes}: what {@code super_cache_count()} reports (znodes in the inode cache). */
    public FsWriteback(PageAllocator pa, long inodes) {
        this.pa = pa;
        this.inodes = inodes;
    }

    /** Registers the superblock shrinker with the page allocator's reclaim ({@code register_shrinker}). */
    public FsWriteback register() {
        pa.registerShrinker(shrinker);
        return this;
    }

    public Shrinker shrinker() { return shrinker; }

    /**
     * Reads {@code dirty} dirty and {@code clean} clean pages of this filesystem into the page cache, with an
     * allocation that neither reclaims nor wakes kswapd; {@code clean < 0} keeps adding clean pages until the
     * allocator refuses (free memory down to the min watermark: a box whose page cache soaked up memory).
     * Returns the pages added.
     */
    public long populate(ExecContext ctx, long dirty, long clean) {
        long gfp = (Gfp.GFP_HIGHUSER_MOVABLE & ~Gfp.RECLAIM) | Gfp.NOWARN;
        long added = 0;
        for (long i = 0; i < dirty; i++, added++) {
            long pfn = pa.allocPages(ctx, 0, gfp);
            if (pfn < 0) return added;
            Zone z = pa.mem.zoneOf(pfn);
            pa.vmscan.lruAdd(z, (int) pfn, true);
            pa.mem.orFlags((int) pfn, F_FSOWNED);
            ownedDirty++;
        }
        for (long i = 0; clean < 0 || i < clean; i++, added++) {
            long pfn = pa.allocPages(ctx, 0, gfp);
            if (pfn < 0) return added;
            pa.vmscan.lruAdd(pa.mem.zoneOf(pfn), (int) pfn, false);
            pa.mem.orFlags((int) pfn, F_FSOWNED);
        }
        return added;
    }

    /**
     * A writeback thread made progress: the txg is synced, its dirty pages are written and clean, and
     * {@code txg_wait_open()} sleepers wake. Costs a field test when nothing is dirty.
     */
    public void txgSynced(ExecContext ctx) {
        syncedTxg++;
        statTxgSyncs++;
        if (ownedDirty > 0) {
            for (Zone z : pa.zones) {
                for (int p = z.lruHead[0]; p >= 0; p = pa.mem.next(p)) {
                    if ((pa.mem.flags(p) & (F_FSOWNED | F_DIRTY)) == (F_FSOWNED | F_DIRTY)) {
                        pa.mem.clearFlags(p, F_DIRTY);
                        z.nrDirty -= 1 << pa.mem.order(p);
                        statPagesCleaned += 1 << pa.mem.order(p);
                    }
                }
            }
            ownedDirty = 0;
        }
        ctx.blocker().wakeUp(ctx, txgWaitQueue);
    }

    /** Dirty pages waiting for the writeback threads. */
    public long dirtyPages() { return ownedDirty; }

    public long syncedTxg() { return syncedTxg; }

    public long inodes() { return inodes; }
}
