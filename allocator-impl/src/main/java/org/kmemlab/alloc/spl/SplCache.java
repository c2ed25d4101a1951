package org.kmemlab.alloc.spl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.PageProvider;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.slab.SlabLayout;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.vmalloc.VmapAreas;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/**
 * An SPL (ZFS on Linux) slab cache, {@code spl_kmem_cache_t} of {@code module/spl/spl-kmem.c} at
 * e2dcc6e ("Emergency slab objects", seed 000) and its follow-ups selected by {@link SplConfig}:
 * {@code spl_kmem_cache_alloc()} with per-cpu magazines, {@code spl_cache_refill()},
 * {@code spl_cache_grow()} inline (pre-patch) or via {@code spl_cache_grow_work()} on a work queue with
 * KMC_BIT_GROWING and {@code wait_event_timeout()}, {@code spl_emergency_alloc()} /
 * {@code spl_emergency_free()} on a list (e2dcc6e) or a tree (ed31634), the DEADLOCKED latch (165f13c),
 * {@code spl_cache_flush()}/{@code spl_cache_shrink()}, {@code spl_kmem_cache_reap_now()} and the
 * {@code /proc/spl/kmem/slab} view of {@code module/spl/spl-proc.c} with the {@code emerg}/{@code max}
 * columns.
 */
public final class SplCache {
    public static final int KMC_KMEM = 1 << 5, KMC_VMEM = 1 << 6, KMC_DEADLOCKED = 1 << 14, KMC_GROWING = 1 << 15,
            KMC_REAPING = 1 << 16;
    /** SPL_KMEM_CACHE_OBJ_PER_SLAB and its minimum. */
    static final int OBJ_PER_SLAB = 16, OBJ_PER_SLAB_MIN = 8;
    /** P2ROUNDUP(sizeof(spl_kmem_slab_t), 8) and sizeof(spl_kmem_obj_t) on x86-64 (see NOTES-slab.md). */
    static final int SKS_SIZE = 64, SKO_SIZE = 40;
    /** Model-only bound on the restart loop of spl_kmem_cache_alloc (the kernel may spin forever). */
    public static final int MAX_RESTARTS = 10_000;

    private static final class SplSlab {
        final long base;
        final long pfn;
        final int order;
        final int objs;
        final int[] free;
        int nfree;
        SplSlab(long base, long pfn, int order, int objs) {
            this.base = base;
            this.pfn = pfn;
            this.order = order;
            this.objs = objs;
            this.free = new int[objs];
            for (int i = 0; i < objs; i++) free[i] = objs - 1 - i;
            this.nfree = objs;
        }
        int ref() { return objs - nfree; }
    }

    private static final class Magazine {
        final long[] objs;
        int avail;
        final int refill;
        Magazine(int size) { objs = new long[size]; refill = (size + 1) / 2; }
    }

    public final String name;
    public final int objSize;
    /** spl_obj_size(): the aligned object plus its spl_kmem_obj_t. */
    public final int splObjSize;
    public final int slabSize;
    public final int objsPerSlab;
    public final int magazineSize;
    private int flags;
    private final SplConfig cfg;
    private final SlubAllocator slab;
    private final Vmalloc vmalloc;
    private final PageProvider pages;
    private final SlabCosts costs;
    public final KLock skcLock;
    /** {@code skc_waitq}. */
    public final Object waitQueue;
    private final Magazine[] mags;
    private final LinkedList<SplSlab> partial = new LinkedList<>();
    private final Set<SplSlab> complete = new HashSet<>();
    private final TreeMap<Long, SplSlab> byAddr = new TreeMap<>();
    /** Emergency object → {ske address, order of the object's pages or -1 for kmalloc}. */
    private final Map<Long, long[]> emergency = new HashMap<>();
    /** For LIST: insertion order, list head = last element (list_add). */
    private final List<Long> emergencyList = new ArrayList<>();

    /** Pages taken straight from the page allocator (KMC_KMEM slabs, GET_FREE_PAGES emergency objects). */
    private long directPages;
    public long slabFail, slabCreate, slabDestroy, slabTotal, slabMax, objTotal, objAlloc, objMax, objDeadlock,
            objEmergency, objEmergencyMax, statEmergencyAllocs, statGrowWaits, statGrowTimeouts, statAllocFailed;

    public SplCache(String name, int objSize, int kmcFlags, SplConfig cfg, SlubAllocator slab, Vmalloc vmalloc) {
        this.name = name;
        this.objSize = objSize;
        this.cfg = cfg;
        this.slab = slab;
        this.vmalloc = vmalloc;
        this.pages = slab.pageProvider();
        this.costs = slab.costs();
        this.splObjSize = SlabLayout.alignUp(objSize, 8) + SKO_SIZE;
        int f = kmcFlags;
        if ((f & (KMC_KMEM | KMC_VMEM)) == 0) f |= splObjSize < SlabLayout.PAGE_SIZE / 8 ? KMC_KMEM : KMC_VMEM;
        this.flags = f;
        // spl_slab_size(): a power-of-two slab from PAGE_SIZE up holding OBJ_PER_SLAB objects.
        long max = (f & KMC_KMEM) != 0 ? (1L << (11 - 3)) * SlabLayout.PAGE_SIZE : 32L << 20;
        int size = SlabLayout.PAGE_SIZE;
        int objs = (size - SKS_SIZE) / splObjSize;
        while (objs < OBJ_PER_SLAB && size * 2L <= max) {
            size *= 2;
            objs = (size - SKS_SIZE) / splObjSize;
        }
        if (objs < OBJ_PER_SLAB_MIN) throw new IllegalArgumentException("spl_slab_size: -ENOSPC for " + name);
        this.slabSize = size;
        this.objsPerSlab = objs;
        this.magazineSize = magazineSize(objSize);
        this.skcLock = new KLock(name + ":skc_lock", KLock.Kind.SPIN);
        this.waitQueue = new Object() {
            @Override public String toString() { return SplCache.this.name + ":skc_waitq"; }
        };
        this.mags = new Magazine[slab.nrCpus()];
        for (int i = 0; i < mags.length; i++) mags[i] = new Magazine(magazineSize);
    }

    /** {@code spl_magazine_size()}. */
    static int magazineSize(int objSize) {
        if (objSize > SlabLayout.PAGE_SIZE * 256) return 4;
        if (objSize > SlabLayout.PAGE_SIZE * 32) return 16;
        if (objSize > SlabLayout.PAGE_SIZE) return 64;
        if (objSize > SlabLayout.PAGE_SIZE / 4) return 128;
        return 256;
    }

    public int flags() { return flags; }
    public boolean isKmem() { return (flags & KMC_KMEM) != 0; }

    // ------------------------------------------------------------------ alloc

    /** {@code spl_kmem_cache_alloc(skc, flags)}; 0 when the model gives up (see {@link #MAX_RESTARTS}). */
    public long alloc(ExecContext ctx, long gfp) {
        ctx.enter("spl_kmem_cache_alloc");
        for (int restart = 0; restart < MAX_RESTARTS; restart++) {
            Magazine m = mags[ctx.cpu()];
            if (m.avail > 0) {
                ctx.charge(costs.splMagHit);
                long obj = m.objs[--m.avail];
                ctx.exit();
                return obj;
            }
            long r = refill(ctx, m, gfp);
            if (r != 0) {
                ctx.exit();
                return r; // emergency object for immediate use
            }
        }
        statAllocFailed++;
        ctx.exit();
        return 0;
    }

    /** Error return of grow/emergency paths (-ENOMEM, -EAGAIN); never a kernel address. */
    private static final long ERR = -1;

    /** {@code spl_cache_refill()}: an emergency object, or 0 to restart. */
    private long refill(ExecContext ctx, Magazine m, long gfp) {
        ctx.enter("spl_cache_refill");
        ctx.lock(skcLock);
        int refill = Math.min(m.refill, m.objs.length - m.avail);
        while (refill > 0) {
            if (partial.isEmpty()) {
                ctx.unlock(skcLock);
                long r = grow(ctx, gfp);
                if (r != 0) {
                    ctx.exit();
                    return r == ERR ? 0 : r;
                }
                // allocations may have happened on this CPU while we slept: recalculate the refill
                refill = Math.min(refill, m.objs.length - m.avail);
                ctx.lock(skcLock);
                continue;
            }
            SplSlab sks = partial.getFirst();
            while (sks.nfree > 0 && refill-- > 0) {
                m.objs[m.avail++] = cacheObj(sks);
                ctx.charge(costs.splRefillPerObj);
            }
            if (sks.nfree == 0) {
                partial.removeFirst();
                complete.add(sks);
            }
        }
        ctx.unlock(skcLock);
        ctx.exit();
        return 0;
    }

    /** {@code spl_cache_obj()}. */
    private long cacheObj(SplSlab sks) {
        int idx = sks.free[--sks.nfree];
        objAlloc++;
        if (objAlloc > objMax) objMax = objAlloc;
        return sks.base + SKS_SIZE + (long) idx * splObjSize;
    }

    /** {@code spl_cache_grow()}: an emergency object, 0 (a slab may now exist) or {@link #ERR} (restart). */
    private long grow(ExecContext ctx, long gfp) {
        ctx.enter("spl_cache_grow");
        try {
            if ((flags & KMC_REAPING) != 0) return ERR; // -EAGAIN: spin until the reaper is done
            if (cfg.growMode() == SplConfig.GrowMode.SYNC_INLINE) {
                SplSlab sks = slabAlloc(ctx, gfp | Gfp.NORETRY);
                if (sks == null) return ERR;
                ctx.lock(skcLock);
                linkSlab(sks);
                ctx.unlock(skcLock);
                return 0;
            }
            if (cfg.trigger() == SplConfig.EmergencyTrigger.DEADLOCK_LATCH && (flags & KMC_DEADLOCKED) != 0) {
                return emergencyAlloc(ctx, gfp);
            }
            if ((flags & KMC_GROWING) == 0) {
                flags |= KMC_GROWING;
                long ska = slab.kmalloc(ctx, 64, gfp);
                if (ska == 0) {
                    flags &= ~KMC_GROWING;
                    ctx.blocker().wakeUp(ctx, waitQueue);
                    return ERR;
                }
                ctx.charge(costs.splGrowDispatch);
                ctx.blocker().queueWork(ctx, "spl_cache_grow_work", w -> growWork(w, gfp, ska));
            }
            statGrowWaits++;
            ctx.enter("wait_event_timeout");
            Blocker.WaitResult res = ctx.blocker().waitEvent(ctx, waitQueue, () -> (flags & KMC_GROWING) == 0,
                    cfg.waitNs());
            ctx.exit();
            if (res == Blocker.WaitResult.WOKEN) return 0;
            statGrowTimeouts++;
            if (cfg.trigger() == SplConfig.EmergencyTrigger.EVERY_TIMEOUT) return emergencyAlloc(ctx, gfp);
            if ((flags & KMC_GROWING) != 0) {
                flags |= KMC_DEADLOCKED;
                objDeadlock++;
            }
            return ERR;
        } finally {
            ctx.exit();
        }
    }

    /** {@code spl_cache_grow_work()}: runs on a kworker; links the slab and wakes the waiters. */
    private void growWork(ExecContext w, long gfp, long ska) {
        SplSlab sks = slabAlloc(w, gfp | Gfp.NORETRY);
        w.lock(skcLock);
        if (sks != null) linkSlab(sks);
        flags &= ~(KMC_GROWING | KMC_DEADLOCKED);
        w.blocker().wakeUp(w, waitQueue);
        w.unlock(skcLock);
        slab.kfree(w, ska);
    }

    private void linkSlab(SplSlab sks) {
        slabTotal++;
        if (slabTotal > slabMax) slabMax = slabTotal;
        objTotal += sks.objs;
        partial.addLast(sks);
    }

    /** {@code spl_slab_alloc()} → {@code kv_alloc()}: pages for KMC_KMEM, {@code __vmalloc} for KMC_VMEM. */
    private SplSlab slabAlloc(ExecContext ctx, long gfp) {
        ctx.enter("spl_slab_alloc");
        ctx.enter("kv_alloc");
        SplSlab sks = null;
        if (isKmem()) {
            int order = SlabLayout.getOrder(slabSize);
            long pfn = pages.allocPages(ctx, order, gfp);
            if (pfn >= 0) {
                sks = new SplSlab(SlabLayout.PAGE_OFFSET + (pfn << SlabLayout.PAGE_SHIFT), pfn, order, objsPerSlab);
                directPages += 1L << order;
            }
        } else {
            long a = vmalloc.vmallocGfp(ctx, slabSize, gfp | Gfp.HIGHMEM);
            if (a != 0) sks = new SplSlab(a, -1, -1, objsPerSlab);
        }
        ctx.exit();
        if (sks == null) {
            slabFail++;
        } else {
            slabCreate++;
            byAddr.put(sks.base, sks);
            ctx.charge(costs.splSlabInitPerObj * sks.objs);
        }
        ctx.exit();
        return sks;
    }

    /** {@code spl_emergency_alloc()}: the object, 0 (-EEXIST: a partial slab appeared) or {@link #ERR} (-ENOMEM). */
    private long emergencyAlloc(ExecContext ctx, long gfp) {
        ctx.enter("spl_emergency_alloc");
        try {
            ctx.lock(skcLock);
            boolean empty = partial.isEmpty();
            ctx.unlock(skcLock);
            if (!empty) return 0;
            long ske = slab.kmalloc(ctx, 32, gfp);
            if (ske == 0) return ERR;
            long obj;
            int order = -1;
            if (cfg.emergencyAlloc() == SplConfig.EmergencyAlloc.KMALLOC) {
                obj = slab.kmalloc(ctx, objSize, gfp);
            } else {
                order = SlabLayout.getOrder(objSize);
                ctx.enter("__get_free_pages");
                long pfn = pages.allocPages(ctx, order, gfp | Gfp.COMP);
                ctx.exit();
                obj = pfn < 0 ? 0 : SlabLayout.PAGE_OFFSET + (pfn << SlabLayout.PAGE_SHIFT);
                if (pfn >= 0) directPages += 1L << order;
            }
            if (obj == 0) {
                slab.kfree(ctx, ske);
                return ERR;
            }
            ctx.lock(skcLock);
            ctx.charge(costs.splEmergBook + insertCost());
            objTotal++;
            objEmergency++;
            if (objEmergency > objEmergencyMax) objEmergencyMax = objEmergency;
            emergency.put(obj, new long[] {ske, order});
            if (cfg.index() == SplConfig.EmergencyIndex.LIST) emergencyList.add(obj);
            ctx.unlock(skcLock);
            statEmergencyAllocs++;
            return obj;
        } finally {
            ctx.exit();
        }
    }

    private long insertCost() {
        return cfg.index() == SplConfig.EmergencyIndex.RBTREE ? costs.splEmergTreeStep * (1 + log2(emergency.size() + 1)) : 0;
    }

    private static int log2(int n) { return 31 - Integer.numberOfLeadingZeros(Math.max(1, n)); }

    // ------------------------------------------------------------------ free

    /** {@code spl_kmem_cache_free()}. */
    public void free(ExecContext ctx, long obj) {
        ctx.enter("spl_kmem_cache_free");
        // "Emergency objects are never part of the virtual address space" (e2dcc6e).
        if (!VmapAreas.isVmallocAddr(obj) && emergencyFree(ctx, obj)) {
            ctx.exit();
            return;
        }
        if (floorSlab(obj) == null) {
            ctx.exit();
            throw new IllegalArgumentException(name + ": free of foreign object 0x" + Long.toHexString(obj));
        }
        Magazine m = mags[ctx.cpu()];
        if (m.avail >= m.objs.length) flush(ctx, m, m.refill);
        m.objs[m.avail++] = obj;
        ctx.charge(costs.splMagHit);
        ctx.exit();
    }

    /** {@code spl_emergency_free()}: a list walk (LIST) or a tree search (RBTREE) under skc_lock. */
    private boolean emergencyFree(ExecContext ctx, long obj) {
        ctx.enter("spl_emergency_free");
        ctx.lock(skcLock);
        long[] e;
        if (cfg.index() == SplConfig.EmergencyIndex.LIST) {
            int idx = emergencyList.lastIndexOf(obj);
            int steps = idx < 0 ? emergencyList.size() : emergencyList.size() - idx;
            ctx.charge(costs.splEmergListStep * steps);
            if (idx >= 0) emergencyList.remove(idx);
            e = idx < 0 ? null : emergency.remove(obj);
        } else {
            ctx.charge(costs.splEmergTreeStep * (1 + log2(emergency.size() + 1)));
            e = emergency.remove(obj);
        }
        if (e != null) {
            objEmergency--;
            objTotal--;
            ctx.charge(costs.splEmergBook);
        }
        ctx.unlock(skcLock);
        if (e != null) {
            if (e[1] < 0) {
                slab.kfree(ctx, obj);
            } else {
                ctx.enter("free_pages");
                pages.freePages(ctx, SlabLayout.pfnOfDirect(obj), (int) e[1]);
                directPages -= 1L << e[1];
                ctx.exit();
            }
            slab.kfree(ctx, e[0]);
        }
        ctx.exit();
        return e != null;
    }

    /** {@code spl_cache_flush()}: the oldest {@code count} magazine objects back to their slabs. */
    private void flush(ExecContext ctx, Magazine m, int count) {
        ctx.enter("spl_cache_flush");
        ctx.lock(skcLock);
        count = Math.min(count, m.avail);
        for (int i = 0; i < count; i++) {
            cacheShrink(m.objs[i]);
            ctx.charge(costs.splFlushPerObj);
        }
        System.arraycopy(m.objs, count, m.objs, 0, m.avail - count);
        m.avail -= count;
        ctx.unlock(skcLock);
        ctx.exit();
    }

    private SplSlab floorSlab(long obj) {
        Map.Entry<Long, SplSlab> e = byAddr.floorEntry(obj);
        if (e == null) return null;
        SplSlab s = e.getValue();
        long off = obj - s.base - SKS_SIZE;
        if (off < 0 || off % splObjSize != 0 || off / splObjSize >= s.objs) return null;
        return s;
    }

    /** {@code spl_cache_shrink()}: fuller slabs at the head of the partial list, empty ones at the tail. */
    private void cacheShrink(long obj) {
        SplSlab s = floorSlab(obj);
        int idx = (int) ((obj - s.base - SKS_SIZE) / splObjSize);
        s.free[s.nfree++] = idx;
        objAlloc--;
        if (complete.remove(s)) {
            partial.addFirst(s);
        }
        if (s.ref() == 0) {
            partial.remove(s);
            partial.addLast(s);
        }
    }

    // ------------------------------------------------------------------ reap / destroy

    /** {@code spl_kmem_cache_reap_now()}: flush the magazines, free every empty slab. */
    public void reapNow(ExecContext ctx) {
        ctx.enter("spl_kmem_cache_reap_now");
        flags |= KMC_REAPING;
        for (Magazine m : mags) if (m.avail > 0) flush(ctx, m, m.avail);
        slabReclaim(ctx);
        flags &= ~KMC_REAPING;
        ctx.blocker().wakeUp(ctx, waitQueue);
        ctx.exit();
    }

    /** {@code spl_slab_reclaim()}: empty slabs sit at the partial tail; free them outside the lock. */
    private void slabReclaim(ExecContext ctx) {
        ctx.enter("spl_slab_reclaim");
        ctx.lock(skcLock);
        List<SplSlab> victims = new ArrayList<>();
        while (!partial.isEmpty() && partial.getLast().ref() == 0) {
            SplSlab s = partial.removeLast();
            victims.add(s);
            slabTotal--;
            objTotal -= s.objs;
            slabDestroy++;
            byAddr.remove(s.base);
        }
        ctx.unlock(skcLock);
        for (SplSlab s : victims) {
            ctx.enter("kv_free");
            if (s.pfn >= 0) {
                pages.freePages(ctx, s.pfn, s.order);
                directPages -= 1L << s.order;
            } else {
                vmalloc.vfree(ctx, s.base);
            }
            ctx.exit();
        }
        ctx.exit();
    }

    /** {@code spl_kmem_cache_destroy()}: everything must have been freed. */
    public void destroy(ExecContext ctx) {
        ctx.enter("spl_kmem_cache_destroy");
        reapNow(ctx);
        if (objAlloc != 0 || objEmergency != 0 || slabTotal != 0) {
            ctx.exit();
            throw new IllegalStateException(name + ": destroy with objects in use (alloc=" + objAlloc
                    + ", emergency=" + objEmergency + ", slabs=" + slabTotal + ")");
        }
        ctx.exit();
    }

    // ------------------------------------------------------------------ observation

    public long slabAlloc() {
        long n = complete.size();
        for (SplSlab s : partial) if (s.ref() > 0) n++;
        return n;
    }

    public long directPages() { return directPages; }

    public int magazineAvail(int cpu) { return mags[cpu].avail; }
    public boolean isEmergency(long obj) { return emergency.containsKey(obj); }
    public int emergencyCount() { return emergency.size(); }

    /** The two header lines of {@code /proc/spl/kmem/slab} as e2dcc6e prints them. */
    public static String procHeader() {
        return "--------------------- cache ----------"
                + "--------------------------------------------- "
                + "----- slab ------ "
                + "---- object -----------------\n"
                + "name                                  "
                + "  flags      size     alloc slabsize  objsize  "
                + "total alloc   max  "
                + "total alloc   max emerg   max\n";
    }

    /** One line of {@code slab_seq_show()} (e2dcc6e format). */
    public String procLine() {
        return String.format("%-36s 0x%05x %9d %9d %8d %8d %5d %5d %5d %5d %5d %5d %5d %5d%n", name, flags,
                (long) slabSize * slabTotal, (long) objSize * objAlloc, slabSize, objSize, slabTotal, slabAlloc(),
                slabMax, objTotal, objAlloc, objMax, objEmergency, objEmergencyMax);
    }

    /** The whole {@code /proc/spl/kmem/slab} for some caches. */
    public static String procView(Iterable<SplCache> caches) {
        StringBuilder sb = new StringBuilder(procHeader());
        for (SplCache c : caches) sb.append(c.procLine());
        return sb.toString();
    }
}
