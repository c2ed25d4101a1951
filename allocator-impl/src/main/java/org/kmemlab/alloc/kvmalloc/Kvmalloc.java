package org.kmemlab.alloc.kvmalloc;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.slab.SlabLayout;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.vmalloc.VmapAreas;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/**
 * {@code kvmalloc()} / {@code kvfree()} in the four variants of {@link KvmallocPolicy}: {@code
 * kvmalloc_node()} of {@code mm/util.c} (5.10 and the 5.16 change), {@code kmalloc_gfp_adjust()} +
 * {@code __kvmalloc_node_noprof()} of current {@code mm/slub.c}, and XFS's open-coded
 * {@code xlog_cil_kvmalloc()} ({@code fs/xfs/xfs_log_cil.c}, seed 001).
 */
public final class Kvmalloc {
    /** A model-only bound on XFS_FAILFAST's {@code do { } while (!p)}: the kernel would spin forever. */
    public static final int FAILFAST_MAX_LOOPS = 10_000;

    private final SlubAllocator slab;
    private final Vmalloc vmalloc;
    private final KvmallocPolicy policy;
    public long statKmallocOk, statVmallocFallback, statFailed, statFailfastLoops;

    public Kvmalloc(SlubAllocator slab, Vmalloc vmalloc, KvmallocPolicy policy) {
        this.slab = slab;
        this.vmalloc = vmalloc;
        this.policy = policy;
    }

    public KvmallocPolicy policy() { return policy; }

    /** The gfp of the kmalloc attempt for a request of {@code size} bytes with {@code flags}. */
    public static long kmallocFlags(KvmallocPolicy p, long size, long flags) {
        switch (p) {
            case KV2017: {
                if ((flags & Gfp.GFP_KERNEL) != Gfp.GFP_KERNEL) return flags;
                long k = flags;
                if (size > SlabLayout.PAGE_SIZE) {
                    k |= Gfp.NOWARN;
                    if ((k & Gfp.RETRY_MAYFAIL) == 0) k |= Gfp.NORETRY;
                }
                return k;
            }
            case KV2022: {
                long k = flags;
                if (size > SlabLayout.PAGE_SIZE) {
                    k |= Gfp.NOWARN;
                    if ((k & Gfp.RETRY_MAYFAIL) == 0) k |= Gfp.NORETRY;
                    k &= ~Gfp.NOFAIL;
                }
                return k;
            }
            case KVNOW: {
                long k = flags;
                if (size > SlabLayout.PAGE_SIZE) {
                    k |= Gfp.NOWARN;
                    if ((k & Gfp.RETRY_MAYFAIL) == 0) k &= ~Gfp.DIRECT_RECLAIM;
                    k &= ~Gfp.NOFAIL;
                }
                return k;
            }
            case XFS_FAILFAST:
                return (Gfp.GFP_KERNEL & ~Gfp.DIRECT_RECLAIM) | Gfp.NOWARN | Gfp.NORETRY;
            default:
                throw new AssertionError(p);
        }
    }

    /** {@code kvmalloc(size, flags)}; 0 on failure. XFS_FAILFAST ignores {@code flags} (it hard-codes GFP_KERNEL). */
    public long kvmalloc(ExecContext ctx, long size, long flags) {
        if (policy == KvmallocPolicy.XFS_FAILFAST) return xlogCilKvmalloc(ctx, size);
        ctx.enter("kvmalloc_node");
        long kflags = kmallocFlags(policy, size, flags);
        long p = slab.kmallocNode(ctx, size, kflags);
        if (p != 0 || size <= SlabLayout.PAGE_SIZE) {
            if (p != 0) statKmallocOk++; else statFailed++;
            ctx.exit();
            return p;
        }
        boolean fallback = switch (policy) {
            // "any use of gfp flags outside of GFP_KERNEL is careful to not fall back to vmalloc"
            case KV2017 -> (flags & Gfp.GFP_KERNEL) == Gfp.GFP_KERNEL;
            // "non-sleeping allocations are not supported by vmalloc"
            default -> Gfp.allowBlocking(flags) && size <= Integer.MAX_VALUE;
        };
        if (!fallback) {
            statFailed++;
            ctx.exit();
            return 0;
        }
        p = vmalloc.vmallocNode(ctx, size, flags);
        if (p != 0) statVmallocFallback++; else statFailed++;
        ctx.exit();
        return p;
    }

    private long xlogCilKvmalloc(ExecContext ctx, long size) {
        ctx.enter("xlog_cil_kvmalloc");
        long flags = kmallocFlags(KvmallocPolicy.XFS_FAILFAST, size, 0);
        for (int loop = 0; loop < FAILFAST_MAX_LOOPS; loop++) {
            if (loop > 0) statFailfastLoops++;
            long p = slab.kmalloc(ctx, size, flags);
            if (p != 0) {
                statKmallocOk++;
                ctx.exit();
                return p;
            }
            p = vmalloc.vmalloc(ctx, size);
            if (p != 0) {
                statVmallocFallback++;
                ctx.exit();
                return p;
            }
        }
        statFailed++;
        ctx.exit();
        return 0;
    }

    /** {@code kvfree()}: vfree for vmalloc addresses, kfree otherwise. */
    public void kvfree(ExecContext ctx, long addr) {
        ctx.enter("kvfree");
        if (VmapAreas.isVmallocAddr(addr)) vmalloc.vfree(ctx, addr); else slab.kfree(ctx, addr);
        ctx.exit();
    }
}
