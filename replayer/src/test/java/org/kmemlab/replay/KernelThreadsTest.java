package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which trace tasks count as kernel threads: the snapshot's list first, then the kernel's names for its threads. */
class KernelThreadsTest {
    @Test
    void theSnapshotListAndTheKernelsThreadNames() {
        KernelThreads k = new KernelThreads("2 kthreadd\n612 txg_sync\n4100 my-kernel-helper\nnot a line\n");
        assertTrue(k.isKthread(4100, "my-kernel-helper"), "listed in the snapshot, whatever its name");
        assertTrue(k.isKthread(612, "txg_sync"));
        assertTrue(k.isKthread(77, "kworker/u8:3"), "started after the snapshot: known by its name");
        assertTrue(k.isKthread(78, "jbd2/sda1-8"));
        assertTrue(k.isKthread(79, "z_wr_iss"));
        assertTrue(k.isKthread(0, "swapper/1"), "the idle task");
        assertTrue(k.isKthread(-3000, null), "the model's own kswapd");
        assertFalse(k.isKthread(1234, "tar"));
        assertFalse(k.isKthread(1235, "gitkworker"), "a name is matched from its start");
        assertFalse(k.isKthread(1236, null), "unknown comm, not listed");
        // decided once per task: a later comm (exec) does not change it
        assertFalse(k.isKthread(1234, "kworker/0:1"));
        KernelThreads none = new KernelThreads(null);
        assertFalse(none.isKthread(4100, "my-kernel-helper"));
        assertTrue(none.isKthread(612, "txg_sync"));
    }
}
