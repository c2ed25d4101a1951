package org.kmemlab.alloc.slab;

import org.kmemlab.alloc.core.CostTable;

/**
 * The one place where the upper half of the model (SLUB, SPL, vmalloc, kvmalloc, mempool, kfree_rcu,
 * cache lifecycle) declares its costs. Every number is a modeling default (allocator-model.md §B.0
 * "defaults are assumptions for calibration, not measured") unless its source says otherwise;
 * COSTS-slab.md lists them with the reasoning.
 *
 * <p>Costs are resolved once per {@link CostTable} into plain fields ({@link #resolve}) because the
 * slab fast path must not do a map lookup per call (target: 20M kmalloc/kfree pairs per second).
 */
public final class SlabCosts {
    // SLUB (mm/slub.c)
    public static final String SLUB_ALLOC_FAST = "slub.alloc.fastpath";
    public static final String SLUB_FREE_FAST = "slub.free.fastpath";
    public static final String SLUB_FREE_SLOW = "slub.free.slowpath";
    public static final String SLUB_ALLOC_SLOW = "slub.alloc.slowpath";
    public static final String SLUB_PARTIAL_TAKE = "slub.partial.take";
    public static final String SLUB_NEW_SLAB = "slub.new_slab";
    public static final String SLUB_NEW_SLAB_PER_OBJ = "slub.new_slab.per_object";
    public static final String SLUB_DISCARD = "slub.discard_slab";
    public static final String KMALLOC_LARGE = "kmalloc.large";
    public static final String CACHE_CREATE = "slab.cache.create";
    public static final String CACHE_SHUTDOWN = "slab.cache.shutdown";
    public static final String CACHE_RELEASE = "slab.cache.release";
    // SPL (module/spl/spl-kmem.c)
    public static final String SPL_MAG_HIT = "spl.magazine.hit";
    public static final String SPL_REFILL_PER_OBJ = "spl.refill.per_object";
    public static final String SPL_FLUSH_PER_OBJ = "spl.flush.per_object";
    public static final String SPL_GROW_DISPATCH = "spl.grow.dispatch";
    public static final String SPL_SLAB_INIT_PER_OBJ = "spl.slab.per_object";
    public static final String SPL_EMERG_BOOK = "spl.emergency.bookkeeping";
    public static final String SPL_EMERG_LIST_STEP = "spl.emergency.list_step";
    public static final String SPL_EMERG_TREE_STEP = "spl.emergency.tree_step";
    // vmalloc (mm/vmalloc.c)
    public static final String VM_STRUCT = "vmalloc.get_vm_area";
    public static final String VM_SEARCH_LIST_STEP = "vmalloc.search.list_step";
    public static final String VM_SEARCH_TREE_STEP = "vmalloc.search.tree_step";
    public static final String VM_INSERT = "vmalloc.insert_vmap_area";
    public static final String VM_PTE_PER_PAGE = "vmalloc.pte.per_page";
    public static final String VM_FREE = "vmalloc.free_vmap_area";
    public static final String VM_PURGE_FLUSH = "vmalloc.purge.flush_tlb";
    public static final String VM_PURGE_PER_CPU = "vmalloc.purge.ipi_per_cpu";
    // mempool (mm/mempool.c)
    public static final String MEMPOOL_ELEMENT = "mempool.element";
    // kfree_rcu (kernel/rcu/tree.c, mm/slab_common.c)
    public static final String KRC_INSERT = "kfree_rcu.insert";
    public static final String KRC_HEAD_LINK = "kfree_rcu.rcu_head_link";
    public static final String KRC_BULK_PER_OBJ = "kfree_rcu.kfree_bulk.per_object";
    public static final String KRC_HEAD_FREE_PER_OBJ = "kfree_rcu.head_free.per_object";
    public static final String KRC_CACHE_PAGE = "kfree_rcu.bnode_cache";

    static {
        CostTable.define(SLUB_ALLOC_FAST, 8, "modeling default: this_cpu_cmpxchg on c->freelist/tid, ~1 cache line");
        CostTable.define(SLUB_FREE_FAST, 8, "modeling default: do_slab_free fast path, cmpxchg on the cpu freelist");
        CostTable.define(SLUB_FREE_SLOW, 40, "modeling default: __slab_free cmpxchg_double on a remote slab's freelist");
        CostTable.define(SLUB_ALLOC_SLOW, 60, "modeling default: ___slab_alloc with irqs off, freelist steal");
        CostTable.define(SLUB_PARTIAL_TAKE, 50, "modeling default: get_partial_node per slab taken under n->list_lock");
        CostTable.define(SLUB_NEW_SLAB, 150, "modeling default: allocate_slab page setup, account_slab");
        CostTable.define(SLUB_NEW_SLAB_PER_OBJ, 2, "modeling default: freelist threading per object in allocate_slab");
        CostTable.define(SLUB_DISCARD, 100, "modeling default: discard_slab/free_slab bookkeeping before __free_pages");
        CostTable.define(KMALLOC_LARGE, 40, "modeling default: kmalloc_large_node bookkeeping (lruvec stat)");
        CostTable.define(CACHE_CREATE, 20_000, "modeling default: kmem_cache_create incl. sysfs/kobject setup");
        CostTable.define(CACHE_SHUTDOWN, 5_000, "modeling default: __kmem_cache_shutdown: flush_all + free empty slabs");
        CostTable.define(CACHE_RELEASE, 2_000, "modeling default: slab_kmem_cache_release (sysfs release, kfree)");
        CostTable.define(SPL_MAG_HIT, 20, "spec §B.9: magazine hit ≈ tens of ns");
        CostTable.define(SPL_REFILL_PER_OBJ, 15, "modeling default: spl_cache_obj per object under skc_lock");
        CostTable.define(SPL_FLUSH_PER_OBJ, 15, "modeling default: spl_cache_shrink per object under skc_lock");
        CostTable.define(SPL_GROW_DISPATCH, 300, "modeling default: kmalloc ska + schedule_delayed_work");
        CostTable.define(SPL_SLAB_INIT_PER_OBJ, 10, "modeling default: spl_slab_alloc per object (sko setup, ctor)");
        CostTable.define(SPL_EMERG_BOOK, 100, "modeling default: spl_emergency_alloc/free bookkeeping under skc_lock");
        CostTable.define(SPL_EMERG_LIST_STEP, 5, "modeling default: one list_for_each_entry step (cache miss amortised)");
        CostTable.define(SPL_EMERG_TREE_STEP, 15, "modeling default: one rbtree level in spl_emergency_search");
        CostTable.define(VM_STRUCT, 150, "modeling default: __get_vm_area_node (kzalloc vm_struct, setup_vmalloc_vm)");
        CostTable.define(VM_SEARCH_LIST_STEP, 10, "modeling default: 3.6 vmap_area_list walk per area under vmap_area_lock");
        CostTable.define(VM_SEARCH_TREE_STEP, 20, "modeling default: 5.x augmented rbtree level (find_vmap_lowest_match)");
        CostTable.define(VM_INSERT, 60, "modeling default: insert_vmap_area into the busy tree");
        CostTable.define(VM_PTE_PER_PAGE, 40, "spec §B.0: vmap page-table install 40 ns/page");
        CostTable.define(VM_FREE, 80, "modeling default: remove_vm_area + free_vmap_area_noflush bookkeeping");
        CostTable.define(VM_PURGE_FLUSH, 2_000, "spec §B.0: flush_tlb_kernel_range 2 µs");
        CostTable.define(VM_PURGE_PER_CPU, 1_000, "spec §B.0: + 1 µs per CPU IPI");
        CostTable.define(MEMPOOL_ELEMENT, 30, "modeling default: add_element/remove_element under pool->lock");
        CostTable.define(KRC_INSERT, 10, "modeling default: store one pointer into the krcp bulk block");
        CostTable.define(KRC_HEAD_LINK, 20, "modeling default: link rcu_head into krcp->head (touches the object)");
        CostTable.define(KRC_BULK_PER_OBJ, 15, "modeling default: kfree_bulk per pointer (same-slab batching)");
        CostTable.define(KRC_HEAD_FREE_PER_OBJ, 45, "modeling default: per-object kvfree walking the rcu_head list (cache miss)");
        CostTable.define(KRC_CACHE_PAGE, 15, "modeling default: get_cached_bnode/put_cached_bnode");
    }

    /** Ensures the static definitions ran (any class of the upper half calls this before resolving). */
    public static void init() {}

    public final long allocFast, freeFast, freeSlow, allocSlow, partialTake, newSlab, newSlabPerObj, discard,
            kmallocLarge, cacheCreate, cacheShutdown, cacheRelease, splMagHit, splRefillPerObj, splFlushPerObj,
            splGrowDispatch, splSlabInitPerObj, splEmergBook, splEmergListStep, splEmergTreeStep, vmStruct,
            vmSearchListStep, vmSearchTreeStep, vmInsert, vmPtePerPage, vmFree, vmPurgeFlush, vmPurgePerCpu,
            mempoolElement, krcInsert, krcHeadLink, krcBulkPerObj, krcHeadFreePerObj, krcCachePage;

    private SlabCosts(CostTable t) {
        allocFast = t.get(SLUB_ALLOC_FAST);
        freeFast = t.get(SLUB_FREE_FAST);
        freeSlow = t.get(SLUB_FREE_SLOW);
        allocSlow = t.get(SLUB_ALLOC_SLOW);
        partialTake = t.get(SLUB_PARTIAL_TAKE);
        newSlab = t.get(SLUB_NEW_SLAB);
        newSlabPerObj = t.get(SLUB_NEW_SLAB_PER_OBJ);
        discard = t.get(SLUB_DISCARD);
        kmallocLarge = t.get(KMALLOC_LARGE);
        cacheCreate = t.get(CACHE_CREATE);
        cacheShutdown = t.get(CACHE_SHUTDOWN);
        cacheRelease = t.get(CACHE_RELEASE);
        splMagHit = t.get(SPL_MAG_HIT);
        splRefillPerObj = t.get(SPL_REFILL_PER_OBJ);
        splFlushPerObj = t.get(SPL_FLUSH_PER_OBJ);
        splGrowDispatch = t.get(SPL_GROW_DISPATCH);
        splSlabInitPerObj = t.get(SPL_SLAB_INIT_PER_OBJ);
        splEmergBook = t.get(SPL_EMERG_BOOK);
        splEmergListStep = t.get(SPL_EMERG_LIST_STEP);
        splEmergTreeStep = t.get(SPL_EMERG_TREE_STEP);
        vmStruct = t.get(VM_STRUCT);
        vmSearchListStep = t.get(VM_SEARCH_LIST_STEP);
        vmSearchTreeStep = t.get(VM_SEARCH_TREE_STEP);
        vmInsert = t.get(VM_INSERT);
        vmPtePerPage = t.get(VM_PTE_PER_PAGE);
        vmFree = t.get(VM_FREE);
        vmPurgeFlush = t.get(VM_PURGE_FLUSH);
        vmPurgePerCpu = t.get(VM_PURGE_PER_CPU);
        mempoolElement = t.get(MEMPOOL_ELEMENT);
        krcInsert = t.get(KRC_INSERT);
        krcHeadLink = t.get(KRC_HEAD_LINK);
        krcBulkPerObj = t.get(KRC_BULK_PER_OBJ);
        krcHeadFreePerObj = t.get(KRC_HEAD_FREE_PER_OBJ);
        krcCachePage = t.get(KRC_CACHE_PAGE);
    }

    /** Snapshot of the table's current values (overrides applied). */
    public static SlabCosts resolve(CostTable table) { return new SlabCosts(table); }
}
