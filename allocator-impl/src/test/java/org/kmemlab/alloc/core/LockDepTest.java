package org.kmemlab.alloc.core;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class LockDepTest {
    final KLock a = new KLock("inode->i_lock[7]", KLock.Kind.SPIN);
    final KLock b = new KLock("cacheA:pool->lock", KLock.Kind.SPIN);
    final KLock raw = new KLock("krcp[0]->lock", KLock.Kind.RAW_SPIN);
    final KLock mutex = new KLock("cgroup_mutex", KLock.Kind.MUTEX);

    static LockDep.Site site(long task, String stack) {
        return new LockDep.Site() {
            @Override public long task() { return task; }
            @Override public String comm() { return "task" + task; }
            @Override public String stack() { return stack; }
        };
    }

    @Test
    void lockClassesDropTheInstance() {
        assertEquals("inode->i_lock", a.className());
        assertEquals("pool->lock", b.className());
        assertEquals("krcp->lock", raw.className());
        assertEquals("zone->lock", new KLock("zone->lock[0:Normal]", KLock.Kind.SPIN).className());
    }

    @Test
    void anInversionInTwoTasksIsReportedThoughNeitherDeadlocked() {
        LockDep ld = new LockDep(false);
        LockDep.Held t1 = ld.newHeld(), t2 = ld.newHeld();
        // task 1: A then B, released; later task 2: B then A. No moment where both wait.
        ld.acquire(t1, a, site(1, "f1;lockA"));
        ld.acquire(t1, b, site(1, "f1;lockA;lockB"));
        ld.release(t1, b);
        ld.release(t1, a);
        assertTrue(ld.circular.isEmpty());
        ld.acquire(t2, b, site(2, "f2;lockB"));
        ld.acquire(t2, a, site(2, "f2;lockB;lockA"));
        assertEquals(1, ld.circular.size());
        List<LockDep.Edge> chain = ld.circular.get(0).chain();
        assertEquals(2, chain.size());
        assertEquals(new LockDep.Edge("pool->lock", "inode->i_lock", 2, "task2", "f2;lockB;lockA"), chain.get(0));
        assertEquals(new LockDep.Edge("inode->i_lock", "pool->lock", 1, "task1", "f1;lockA;lockB"), chain.get(1));
        assertEquals("pool->lock -> inode->i_lock -> pool->lock", ld.circular.get(0).toJson().get("cycle"));
        // the same inversion again is the same report
        ld.release(t2, a);
        ld.release(t2, b);
        ld.acquire(t2, b, site(2, "g"));
        ld.acquire(t2, a, site(2, "g;h"));
        assertEquals(1, ld.circular.size());
    }

    @Test
    void theSameOrderEverywhereIsNoReport() {
        LockDep ld = new LockDep(false);
        for (int t = 1; t <= 3; t++) {
            LockDep.Held h = ld.newHeld();
            ld.acquire(h, a, site(t, "x"));
            ld.acquire(h, b, site(t, "x;y"));
            ld.release(h, a); // out of order release is fine
            ld.release(h, b);
            assertEquals(0, h.depth());
        }
        assertTrue(ld.circular.isEmpty());
        assertTrue(ld.hasDependency("inode->i_lock", "pool->lock"));
        assertFalse(ld.hasDependency("pool->lock", "inode->i_lock"));
    }

    @Test
    void aLockHeldWhileAllocatingAndTakenInReclaimIsACircularDependencyThroughFsReclaim() {
        LockDep ld = new LockDep(false);
        LockDep.Held t1 = ld.newHeld(), t2 = ld.newHeld();
        // task 1 allocates GFP_KERNEL under A: prepare_alloc_pages' annotation gives A -> fs_reclaim
        ld.acquire(t1, a, site(1, "op"));
        ld.fsReclaimAcquire(t1, Gfp.GFP_KERNEL, false, site(1, "op;__alloc_pages_nodemask"));
        ld.fsReclaimRelease(t1, Gfp.GFP_KERNEL);
        ld.release(t1, a);
        // a GFP_NOFS allocation under A would not have: fs_reclaim needs __GFP_FS
        assertTrue(ld.hasDependency("inode->i_lock", "fs_reclaim"));
        // task 2 reclaims and a shrinker takes A: fs_reclaim -> A
        ld.fsReclaimAcquire(t2, Gfp.GFP_KERNEL, true, site(2, "__perform_reclaim"));
        ld.acquire(t2, a, site(2, "__perform_reclaim;shrink_slab;a_scan"));
        assertEquals(1, ld.circular.size());
        assertEquals("fs_reclaim -> inode->i_lock -> fs_reclaim", ld.circular.get(0).toJson().get("cycle"));
        assertTrue(ld.reclaimInScopeReports().isEmpty(), "caller gfp unknown, no scope: nothing forbids reclaim");
    }

    @Test
    void reclaimWithFsInsideANoioCallerIsReportedOncePerPathWithACount() {
        LockDep ld = new LockDep(false);
        LockDep.Held h = ld.newHeld();
        h.reset(Gfp.GFP_NOIO | Gfp.HIGH, 0);
        ld.fsReclaimAcquire(h, Gfp.GFP_NOIO, true, site(1, "p;q")); // honoured: no report
        ld.fsReclaimRelease(h, Gfp.GFP_NOIO);
        for (int i = 0; i < 3; i++) {
            ld.fsReclaimAcquire(h, Gfp.GFP_KERNEL | Gfp.ZERO, true, site(1, "p;__pte_alloc_kernel;__perform_reclaim"));
            ld.fsReclaimRelease(h, Gfp.GFP_KERNEL);
        }
        ld.fsReclaimAcquire(h, Gfp.GFP_KERNEL, false, site(1, "p;__pte_alloc_kernel")); // annotation only: not reclaim
        List<LockDep.ReclaimInScope> r = ld.reclaimInScopeReports();
        assertEquals(1, r.size());
        assertEquals(3, r.get(0).count);
        assertEquals("fs_reclaim taken inside NOIO scope", r.get(0).toJson().get("kind"));
        assertEquals("GFP_NOIO|__GFP_HIGH", r.get(0).toJson().get("caller_gfp"));
        assertEquals("GFP_KERNEL|__GFP_ZERO", r.get(0).toJson().get("reclaim_gfp"));
        // a declared PF_FSTRANS scope forbids it too, whatever the caller's gfp
        LockDep.Held w = ld.newHeld();
        w.reset(-1, Gfp.IO | Gfp.FS);
        ld.fsReclaimAcquire(w, Gfp.GFP_KERNEL, true, site(2, "other"));
        assertEquals(2, ld.reclaimInScopeReports().size());
        assertEquals("NOIO", ld.reclaimInScopeReports().get(1).toJson().get("task_scope"));
    }

    @Test
    void waitTypesFollowProveRawLockNestingAndPreemptRt() {
        LockDep ld = new LockDep(false);
        LockDep.Held h = ld.newHeld();
        ld.acquire(h, raw, site(1, "kvfree_call_rcu"));
        ld.acquire(h, a, site(1, "kvfree_call_rcu;x"));
        ld.release(h, a);
        ld.acquire(h, a, site(1, "kvfree_call_rcu;x"));
        ld.release(h, a);
        ld.acquire(h, raw, site(1, "kvfree_call_rcu;y")); // raw under raw is fine
        List<LockDep.WaitContext> w = ld.waitContextReports();
        assertEquals(1, w.size());
        assertEquals("BUG: Invalid wait context", w.get(0).bug);
        assertEquals("krcp->lock", w.get(0).outer);
        assertEquals("inode->i_lock", w.get(0).inner);
        assertEquals(2, w.get(0).count);
        // a spinlock_t under a spinlock_t is fine on !RT; a mutex under it is not
        LockDep.Held g = ld.newHeld();
        ld.acquire(g, a, site(2, "s"));
        ld.acquire(g, b, site(2, "s;t"));
        assertEquals(1, ld.waitContextReports().size());
        ld.acquire(g, mutex, site(2, "s;t;m"));
        assertEquals(2, ld.waitContextReports().size());
        assertEquals("BUG: sleeping function called from invalid context", ld.waitContextReports().get(1).bug);
        assertEquals("inode->i_lock", ld.waitContextReports().get(1).outer, "the lowest wait type held is the outer context");

        LockDep rt = new LockDep(true);
        LockDep.Held r = rt.newHeld();
        rt.acquire(r, raw, site(1, "k"));
        rt.acquire(r, a, site(1, "k;z"));
        assertEquals("BUG: sleeping function called from invalid context", rt.waitContextReports().get(0).bug);
    }
}
