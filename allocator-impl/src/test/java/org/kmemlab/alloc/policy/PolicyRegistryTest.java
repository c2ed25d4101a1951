package org.kmemlab.alloc.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.kvmalloc.KvmallocPolicy;
import org.kmemlab.alloc.mempool.MempoolSemantics;
import org.kmemlab.alloc.rcu.BnodeAlloc;
import org.kmemlab.alloc.slab.RcuDestroy;
import org.kmemlab.alloc.spl.SplConfig;
import org.kmemlab.alloc.testing.TestPageProvider;

class PolicyRegistryTest {
    @Test
    void everySeedHasAPresetAndTheListingHasOneLineEach() {
        String d = PolicyRegistry.describe();
        for (String n : new String[] {"baseline", "spl-emergency", "xfs-kvmalloc-failfast", "btrfs-extent-mempool",
                "gfp-fast-try", "rcu-destroy-batched"}) {
            assertTrue(d.contains(n), n);
            PolicyRegistry.configure(n, Map.of());
        }
        assertEquals(6, d.lines().count());
        System.out.print(d);
    }

    @Test
    void presetsSwitchTheirMechanism() {
        UpperConfig base = PolicyRegistry.configure("baseline", Map.of());
        assertEquals(SplConfig.GrowMode.SYNC_INLINE, base.spl().growMode());
        assertEquals(KvmallocPolicy.KV2017, base.kvmalloc());
        assertEquals(BnodeAlloc.NOWAIT_UNDER_LOCK, base.kfreeRcuBnodeAlloc());
        assertEquals(RcuDestroy.SYNC_PER_CACHE, base.rcuDestroy());
        assertEquals(UpperConfig.ExtentStateAlloc.SLAB, base.btrfsExtentStateAlloc());

        assertEquals(SplConfig.GrowMode.ASYNC_WQ_EMERGENCY, PolicyRegistry.configure("spl-emergency", Map.of()).spl().growMode());
        UpperConfig xfs = PolicyRegistry.configure("xfs-kvmalloc-failfast", Map.of());
        assertEquals(KvmallocPolicy.XFS_FAILFAST, xfs.kvmalloc());
        assertEquals(UpperConfig.CallerScope.NOFS, xfs.kvmallocCallerScope());
        assertEquals(UpperConfig.ExtentStateAlloc.MEMPOOL, PolicyRegistry.configure("btrfs-extent-mempool", Map.of()).btrfsExtentStateAlloc());
        assertEquals(BnodeAlloc.FAST_TRY, PolicyRegistry.configure("gfp-fast-try", Map.of()).kfreeRcuBnodeAlloc());
        assertEquals(RcuDestroy.BATCHED_ASYNC, PolicyRegistry.configure("rcu-destroy-batched", Map.of()).rcuDestroy());
    }

    @Test
    void subKnobsOverrideThePreset() {
        UpperConfig c = PolicyRegistry.configure("spl-emergency", Map.of("spl.emergencyIndex", "rbtree",
                "spl.growWaitTicks", "HZ/10", "spl.emergencyTrigger", "deadlock_latch"));
        assertEquals(SplConfig.EmergencyIndex.RBTREE, c.spl().index());
        assertEquals(25, c.spl().growWaitTicks()); // HZ=250
        assertEquals(SplConfig.EmergencyTrigger.DEADLOCK_LATCH, c.spl().trigger());
        UpperConfig m = PolicyRegistry.configure("btrfs-extent-mempool", Map.of("mempool.minNr", "32", "mempool.semantics", "MPNOW"));
        assertEquals(32, m.mempoolMinNr());
        assertEquals(MempoolSemantics.MPNOW, m.mempoolSemantics());
        assertEquals(KvmallocPolicy.KVNOW, PolicyRegistry.configure("xfs-kvmalloc-failfast", Map.of("kvmalloc.policy", "KVNOW")).kvmalloc());
        UpperConfig now = PolicyRegistry.configure("baseline", Map.of("era", "ENOW"));
        assertEquals(KernelEra.ENOW, now.era());
        assertTrue(now.vmallocHonoursGfpForPageTables(), "era-derived");
        assertEquals(MempoolSemantics.MPNOW, now.mempoolSemantics(), "era-derived");
        assertEquals(MempoolSemantics.MP2011, PolicyRegistry.configure("baseline", Map.of("era", "E2011")).mempoolSemantics());
        assertEquals(MempoolSemantics.MP2012, PolicyRegistry.configure("baseline", Map.of()).mempoolSemantics());
        assertEquals(MempoolSemantics.MP2011, PolicyRegistry.configure("btrfs-extent-mempool", Map.of("era", "ENOW")).mempoolSemantics(),
                "the preset's explicit value wins over the era");
    }

    @Test
    void unknownKnobsAndValuesAreRejectedWithWhatIsAccepted() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PolicyRegistry.configure("baseline", Map.of("spl.emergencyIdx", "list")));
        assertTrue(e.getMessage().contains("spl.emergencyIdx") && e.getMessage().contains("spl.emergencyIndex"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PolicyRegistry.configure("baseline", Map.of("kvmalloc.policy", "FAST")));
        assertTrue(e.getMessage().contains("kvmalloc.policy") && e.getMessage().contains("KV2017|KV2022|KVNOW|XFS_FAILFAST"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PolicyRegistry.configure("baseline", Map.of("mempool.minNr", "-1")));
        assertTrue(e.getMessage().contains("mempool.minNr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PolicyRegistry.configure("nope", Map.of()));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("gfp-fast-try"), e.getMessage());
    }

    @Test
    void rcuDestroyBatchedPresetReleasesNCachesWithOneBarrierAndAShortMutexHold() {
        for (String policy : new String[] {"baseline", "rcu-destroy-batched"}) {
            UpperModel m = UpperModel.build(PolicyRegistry.configure(policy, Map.of()), new TestPageProvider(1 << 14, 2), 2,
                    new CostTable());
            org.kmemlab.alloc.testing.TestCtx ctx = new org.kmemlab.alloc.testing.TestCtx();
            java.util.List<org.kmemlab.alloc.slab.SlubCache> caches = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                var c = m.slab.kmemCacheCreate(ctx, "cg" + i, 128, 0, org.kmemlab.alloc.slab.SlabFlags.TYPESAFE_BY_RCU);
                c.free(ctx, c.alloc(ctx, org.kmemlab.alloc.core.Gfp.GFP_KERNEL));
                caches.add(c);
            }
            long t0 = ctx.now();
            assertEquals(8, m.destroyCaches(ctx, caches));
            long held = ctx.now() - t0;
            assertTrue(ctx.tookLock("cgroup_mutex"));
            ctx.runPending();
            if (policy.equals("baseline")) {
                assertEquals(8, ctx.rcuBarriers);
                assertTrue(held >= 8 * ctx.gracePeriodNs());
            } else {
                assertEquals(1, m.slab.statRcuBarriers, "one rcu_barrier() for the batch, on the work item");
                assertTrue(held < ctx.gracePeriodNs());
            }
        }
    }

    @Test
    void upperModelBuildsForEveryPreset() {
        for (PolicyPreset p : PolicyRegistry.all()) {
            UpperModel m = UpperModel.build(PolicyRegistry.configure(p.id, Map.of()), new TestPageProvider(1 << 12, 2), 2,
                    new CostTable());
            assertEquals(p.id, m.config.policy());
            assertEquals(m.config.kvmalloc(), m.kvmalloc.policy());
            assertEquals(m.config.kfreeRcuBnodeAlloc(), m.kfreeRcu.bnodeAlloc());
            assertEquals(m.config.rcuDestroy(), m.slab.rcuDestroy());
        }
    }
}
