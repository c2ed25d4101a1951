package org.kmemlab.alloc.slab;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;

/**
 * One SLUB cache ({@code struct kmem_cache}) in the classic per-cpu-slab design of {@code mm/slub.c}
 * (5.10 – 6.x without sheaves): {@code slab_alloc_node()} fast path on the cpu slab,
 * {@code ___slab_alloc()} (cpu partial list, {@code get_partial_node()} under {@code n->list_lock},
 * {@code new_slab()} → {@code allocate_slab()} with the high-order-then-{@code s->min} fallback),
 * {@code do_slab_free()} / {@code __slab_free()} with {@code put_cpu_partial()} and
 * {@code __put_partials()}, {@code discard_slab()} → {@code free_slab()} (RCU-deferred for
 * SLAB_TYPESAFE_BY_RCU), {@code flush_all()} and {@code __kmem_cache_shutdown()}. One NUMA node.
 *
 * <p>The fast paths allocate nothing and take no lock; everything else reports its locks and frames
 * through the {@link ExecContext}.
 */
public final class SlubCache {
    public final String name;
    /** {@code s->object_size}: what the caller asked for (bytes_req of kmem_cache_alloc). */
    public final int objectSize;
    /** {@code s->size}: object plus metadata, aligned (bytes_alloc; slabinfo's objsize). */
    public final int size;
    public final int align;
    public final int flags;
    /** {@code oo_order(s->oo)} / {@code oo_objects(s->oo)}. */
    public final int order, objsPerSlab;
    /** {@code s->min}: the fallback when the preferred order cannot be had. */
    public final int minOrder, minObjsPerSlab;
    public final int cpuPartialSlabs;
    public final int minPartial;
    /** {@code s->allocflags}. */
    public final long allocFlags;
    /**
     * ceil(2^40 / size): {@code off * reciprocal >>> 40 == off / size} for every offset inside a slab
     * (off &lt; 2^22) while size &lt; 2^17, because the error off/2^40 stays below 1/size. 0: divide.
     */
    final long reciprocal;
    final KLock listLock;

    private final SlubAllocator owner;
    private final SlabCosts costs;
    private final Slab[] cpuSlab;
    /** Per cpu partial list (singly linked through {@link Slab#next}) and its length. */
    private final Slab[] cpuPartial;
    private final int[] cpuPartialCount;
    /** The node partial list, doubly linked, head = next to be taken. */
    private Slab partialHead, partialTail;
    private int nrPartial;

    // /proc/slabinfo and stat counters
    long nrSlabs, totalObjects, activeObjects;
    public long statAllocFastpath, statAllocSlowpath, statFreeFastpath, statFreeSlowpath, statAllocFromPartial,
            statAllocSlab, statFreeSlab, statOrderFallback, statCpuPartialDrain, statAllocFailed;
    boolean destroyed;

    SlubCache(SlubAllocator owner, String name, int objectSize, int size, int align, int flags, int order) {
        this.owner = owner;
        this.costs = owner.costs;
        this.name = name;
        this.objectSize = objectSize;
        this.size = size;
        this.align = align;
        this.flags = flags;
        this.order = order;
        this.objsPerSlab = SlabLayout.orderObjects(order, size);
        this.minOrder = SlabLayout.getOrder(size);
        this.minObjsPerSlab = SlabLayout.orderObjects(minOrder, size);
        this.cpuPartialSlabs = SlabLayout.cpuPartialSlabs(SlabLayout.cpuPartialObjects(size), objsPerSlab);
        this.minPartial = SlabLayout.minPartial(size);
        long af = Gfp.COMP;
        if ((flags & SlabFlags.RECLAIM_ACCOUNT) != 0) af |= Gfp.RECLAIMABLE;
        if ((flags & SlabFlags.CACHE_DMA) != 0) af |= Gfp.DMA;
        this.allocFlags = af;
        this.reciprocal = size < (1 << 17) ? ((1L << 40) + size - 1) / size : 0;
        this.listLock = new KLock(name + ":n->list_lock", KLock.Kind.SPIN);
        int cpus = owner.nrCpus;
        this.cpuSlab = new Slab[cpus];
        this.cpuPartial = new Slab[cpus];
        this.cpuPartialCount = new int[cpus];
    }

    public int pagesPerSlab() { return 1 << order; }

    // ------------------------------------------------------------------ allocation

    /** {@code kmem_cache_alloc()}: returns the object address or 0 (NULL). */
    public long alloc(ExecContext ctx, long gfp) {
        ctx.enter("kmem_cache_alloc");
        long obj = allocNoFrame(ctx, gfp);
        ctx.exit();
        return obj;
    }

    /** {@code slab_alloc_node()} (inlined in the kernel, so no frame of its own). */
    long allocNoFrame(ExecContext ctx, long gfp) {
        int cpu = ctx.cpu();
        Slab s = cpuSlab[cpu];
        if (s != null && s.nfree > 0) {
            ctx.charge(costs.allocFast);
            statAllocFastpath++;
            activeObjects++;
            return s.pop();
        }
        return slowAlloc(ctx, gfp, cpu);
    }

    /** {@code ___slab_alloc()}. */
    private long slowAlloc(ExecContext ctx, long gfp, int cpu) {
        ctx.enter("___slab_alloc");
        ctx.charge(costs.allocSlow);
        statAllocSlowpath++;
        Slab old = cpuSlab[cpu];
        if (old != null) {
            // Only a full slab gets here: it leaves the cpu and goes on no list (deactivate_slab).
            cpuSlab[cpu] = null;
            old.cpu = -1;
            if (old.nfree > 0) deactivate(ctx, old);
        }
        Slab s = cpuPartial[cpu];
        if (s != null) {
            cpuPartial[cpu] = s.next;
            cpuPartialCount[cpu]--;
            s.next = null;
            s.onCpuPartial = false;
        } else {
            s = getPartialNode(ctx, cpu);
            if (s == null) {
                s = newSlab(ctx, gfp);
                if (s == null) {
                    statAllocFailed++;
                    ctx.exit();
                    return 0; // slab_out_of_memory()
                }
            }
        }
        if (cpuSlab[cpu] != null) deactivateCpuSlab(ctx, cpu);
        s.cpu = cpu;
        cpuSlab[cpu] = s;
        activeObjects++;
        long obj = s.pop();
        ctx.exit();
        return obj;
    }

    /** {@code get_partial_node()}: one slab for the cpu, more onto its partial list up to half the limit. */
    private Slab getPartialNode(ExecContext ctx, int cpu) {
        if (partialHead == null) return null; // the kernel checks n->nr_partial before locking
        ctx.enter("get_partial_node");
        ctx.lock(listLock);
        Slab first = null;
        int partialSlabs = 0;
        while (partialHead != null) {
            Slab s = partialHead;
            removePartial(s);
            ctx.charge(costs.partialTake);
            if (first == null) {
                first = s;
                statAllocFromPartial++;
                if (cpuPartialSlabs == 0) break;
            } else {
                pushCpuPartial(cpu, s);
                if (++partialSlabs > cpuPartialSlabs / 2) break;
            }
        }
        ctx.unlock(listLock);
        ctx.exit();
        return first;
    }

    /**
     * {@code new_slab()} → {@code allocate_slab()}: preferred order without reclaim, then s->min. new_slab()
     * passes only the caller's reclaim and placement bits ({@code GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK}):
     * the zone and mobility of a slab page are the cache's ({@code s->allocflags}), so a GFP_HIGHUSER_MOVABLE
     * mapping allocating a radix_tree_node gets a reclaimable page, not a movable one.
     */
    private Slab newSlab(ExecContext ctx, long gfp) {
        ctx.enter("new_slab");
        ctx.enter("allocate_slab");
        long flags = (gfp & (Gfp.RECLAIM_MASK | Gfp.CONSTRAINT_MASK)) | allocFlags;
        long allocGfp = (flags | Gfp.NOWARN | Gfp.NORETRY) & ~Gfp.NOFAIL;
        if ((allocGfp & Gfp.DIRECT_RECLAIM) != 0 && order > minOrder) {
            allocGfp = (allocGfp | Gfp.NOMEMALLOC) & ~Gfp.RECLAIM;
        }
        int o = order;
        long pfn = owner.pages.allocPages(ctx, o, allocGfp);
        if (pfn < 0 && order > minOrder) {
            o = minOrder;
            pfn = owner.pages.allocPages(ctx, o, flags);
            if (pfn >= 0) statOrderFallback++;
        }
        Slab s = null;
        if (pfn >= 0) {
            int objs = o == order ? objsPerSlab : minObjsPerSlab;
            s = new Slab(this, pfn, o, objs);
            owner.pageMap.set(pfn, o, s);
            owner.slabPages += 1L << o;
            nrSlabs++;
            totalObjects += objs;
            statAllocSlab++;
            ctx.charge(costs.newSlab + costs.newSlabPerObj * objs);
        }
        ctx.exit();
        ctx.exit();
        return s;
    }

    /** Puts a cpu slab back on the node lists ({@code deactivate_slab()}). */
    private void deactivateCpuSlab(ExecContext ctx, int cpu) {
        Slab s = cpuSlab[cpu];
        cpuSlab[cpu] = null;
        s.cpu = -1;
        if (s.nfree > 0) deactivate(ctx, s);
    }

    private void deactivate(ExecContext ctx, Slab s) {
        ctx.enter("deactivate_slab");
        ctx.lock(listLock);
        if (s.isEmpty() && nrPartial >= minPartial) {
            ctx.unlock(listLock);
            discardSlab(ctx, s);
        } else {
            addPartialTail(s);
            ctx.unlock(listLock);
        }
        ctx.exit();
    }

    // ------------------------------------------------------------------ free

    /** {@code kmem_cache_free()}. */
    public void free(ExecContext ctx, long addr) {
        ctx.enter("kmem_cache_free");
        Slab slab = owner.pageMap.get(SlabPageMap.pfnOf(addr));
        if (slab == null || slab.cache != this) {
            ctx.exit();
            throw new IllegalArgumentException("kmem_cache_free(" + name + "): 0x" + Long.toHexString(addr)
                    + " is not an object of this cache (" + (slab == null ? "no slab" : slab.cache.name) + ")");
        }
        freeToSlab(ctx, slab, addr);
        ctx.exit();
    }

    /** {@code slab_free()} → {@code do_slab_free()}; the caller found the slab. */
    void freeToSlab(ExecContext ctx, Slab slab, long addr) {
        int cpu = ctx.cpu();
        boolean wasFull = slab.nfree == 0;
        if (!slab.push(addr)) {
            throw new IllegalStateException("double free or invalid pointer 0x" + Long.toHexString(addr)
                    + " in " + slab);
        }
        activeObjects--;
        if (slab == cpuSlab[cpu]) {
            ctx.charge(costs.freeFast);
            statFreeFastpath++;
            return;
        }
        slabFree(ctx, slab, wasFull, cpu);
    }

    /** {@code __slab_free()}: the list moves a remote or non-cpu slab needs. */
    private void slabFree(ExecContext ctx, Slab slab, boolean wasFull, int cpu) {
        ctx.enter("__slab_free");
        ctx.charge(costs.freeSlow);
        statFreeSlowpath++;
        boolean frozen = slab.cpu >= 0;
        if (frozen || slab.onCpuPartial) { ctx.exit(); return; }
        if (wasFull) {
            if (cpuPartialSlabs > 0) {
                putCpuPartial(ctx, cpu, slab);
            } else {
                ctx.lock(listLock);
                addPartialTail(slab);
                ctx.unlock(listLock);
            }
        } else if (slab.isEmpty()) {
            ctx.lock(listLock);
            if (slab.onNodePartial && nrPartial >= minPartial) {
                removePartial(slab);
                ctx.unlock(listLock);
                discardSlab(ctx, slab);
            } else {
                ctx.unlock(listLock);
            }
        }
        ctx.exit();
    }

    /** {@code put_cpu_partial()}: when the list is at its limit, its slabs move to the node first. */
    private void putCpuPartial(ExecContext ctx, int cpu, Slab slab) {
        ctx.enter("put_cpu_partial");
        if (cpuPartial[cpu] != null && cpuPartialCount[cpu] >= cpuPartialSlabs) {
            Slab list = cpuPartial[cpu];
            cpuPartial[cpu] = null;
            cpuPartialCount[cpu] = 0;
            putPartials(ctx, list);
            statCpuPartialDrain++;
        }
        pushCpuPartial(cpu, slab);
        ctx.exit();
    }

    private void pushCpuPartial(int cpu, Slab s) {
        s.onCpuPartial = true;
        s.next = cpuPartial[cpu];
        cpuPartial[cpu] = s;
        cpuPartialCount[cpu]++;
    }

    /** {@code __put_partials()}: to the node list, discarding empty slabs beyond min_partial. */
    private void putPartials(ExecContext ctx, Slab list) {
        ctx.enter("__put_partials");
        ctx.lock(listLock);
        Slab discard = null;
        while (list != null) {
            Slab s = list;
            list = s.next;
            s.next = null;
            s.onCpuPartial = false;
            if (s.isEmpty() && nrPartial >= minPartial) {
                s.next = discard;
                discard = s;
            } else {
                addPartialTail(s);
            }
        }
        ctx.unlock(listLock);
        discardAll(ctx, discard);
        ctx.exit();
    }

    /** {@code discard_slab()} → {@code free_slab()}: TYPESAFE_BY_RCU pages wait for a grace period. */
    private void discardSlab(ExecContext ctx, Slab s) {
        ctx.enter("discard_slab");
        ctx.charge(costs.discard);
        nrSlabs--;
        totalObjects -= s.objects;
        statFreeSlab++;
        if ((flags & SlabFlags.TYPESAFE_BY_RCU) != 0) {
            owner.rcuPendingSlabs++;
            ctx.blocker().callRcu(ctx, c -> {
                c.enter("rcu_free_slab");
                owner.releaseSlabPages(c, s);
                owner.rcuPendingSlabs--;
                c.exit();
            });
        } else {
            owner.releaseSlabPages(ctx, s);
        }
        ctx.exit();
    }

    // ------------------------------------------------------------------ node partial list

    private void addPartialTail(Slab s) {
        s.onNodePartial = true;
        s.next = null;
        s.prev = partialTail;
        if (partialTail != null) partialTail.next = s; else partialHead = s;
        partialTail = s;
        nrPartial++;
    }

    private void removePartial(Slab s) {
        if (s.prev != null) s.prev.next = s.next; else partialHead = s.next;
        if (s.next != null) s.next.prev = s.prev; else partialTail = s.prev;
        s.prev = s.next = null;
        s.onNodePartial = false;
        nrPartial--;
    }

    // ------------------------------------------------------------------ shrink / shutdown

    /** {@code flush_all()}: every cpu slab and cpu partial list back to the node (IPIs in the kernel). */
    public void flushAll(ExecContext ctx) {
        ctx.enter("flush_all");
        for (int cpu = 0; cpu < cpuSlab.length; cpu++) {
            if (cpuSlab[cpu] != null) deactivateCpuSlab(ctx, cpu);
            if (cpuPartial[cpu] != null) {
                Slab list = cpuPartial[cpu];
                cpuPartial[cpu] = null;
                cpuPartialCount[cpu] = 0;
                putPartials(ctx, list);
            }
        }
        ctx.exit();
    }

    /**
     * Initial state only, with no kernel counterpart: makes the full slab holding {@code addr} the cpu's cpu slab
     * (frozen), as a recording shows that cpu allocating from it first. A free into it from that cpu then stays in
     * it, as the kernel's fast path keeps it, where a free into a full slab on no list would put it on the freeing
     * cpu's partial list. A slab already on a list or another cpu's is left as it is; the cpu's own cpu slab is
     * deactivated first.
     */
    public void setCpuSlab(ExecContext ctx, int cpu, long addr) {
        Slab s = owner.pageMap.get(SlabPageMap.pfnOf(addr));
        if (s == null || s.cache != this) {
            throw new IllegalArgumentException(name + ": 0x" + Long.toHexString(addr) + " is not an object of this cache");
        }
        if (s.cpu >= 0 || s.onCpuPartial || s.onNodePartial) return;
        if (cpuSlab[cpu] != null) deactivateCpuSlab(ctx, cpu);
        s.cpu = cpu;
        cpuSlab[cpu] = s;
    }

    /** {@code __kmem_cache_shrink()}: flush, then free every empty slab on the node list. */
    public void shrink(ExecContext ctx) {
        ctx.enter("__kmem_cache_shrink");
        flushAll(ctx);
        ctx.lock(listLock);
        Slab discard = null;
        for (Slab s = partialHead; s != null; ) {
            Slab n = s.next;
            if (s.isEmpty()) {
                removePartial(s);
                s.next = discard;
                discard = s;
            }
            s = n;
        }
        ctx.unlock(listLock);
        discardAll(ctx, discard);
        ctx.exit();
    }

    /** {@code __kmem_cache_shutdown()}: false ("Objects remaining") when objects are still allocated. */
    boolean shutdown(ExecContext ctx) {
        ctx.enter("__kmem_cache_shutdown");
        ctx.charge(costs.cacheShutdown);
        shrink(ctx);
        boolean ok = activeObjects == 0 && nrSlabs == 0;
        ctx.exit();
        return ok;
    }

    // ------------------------------------------------------------------ observation

    public long activeObjects() { return activeObjects; }
    public long totalObjects() { return totalObjects; }
    public long nrSlabs() { return nrSlabs; }
    public int nrPartial() { return nrPartial; }
    public int cpuPartialCount(int cpu) { return cpuPartialCount[cpu]; }
    public Slab cpuSlab(int cpu) { return cpuSlab[cpu]; }
    public boolean isDestroyed() { return destroyed; }

    /** One {@code /proc/slabinfo} line (slabinfo 2.1, SLUB: tunables are 0). */
    public String slabinfoLine() {
        return String.format("%-17s %6d %6d %6d %4d %4d : tunables %4d %4d %4d : slabdata %6d %6d %6d",
                name, activeObjects, totalObjects, size, objsPerSlab, 1 << order, 0, 0, 0, nrSlabs, nrSlabs, 0);
    }

    @Override
    public String toString() { return "kmem_cache(" + name + ", size=" + size + ")"; }

    /** Frees a chain of empty slabs gathered under list_lock, after dropping it (as __unfreeze_partials does). */
    private void discardAll(ExecContext ctx, Slab discard) {
        while (discard != null) {
            Slab s = discard;
            discard = s.next;
            s.next = null;
            discardSlab(ctx, s);
        }
    }
}
