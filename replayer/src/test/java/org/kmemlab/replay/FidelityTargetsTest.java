package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The fidelity report's verdicts against the replay's targets, from its lines. */
class FidelityTargetsTest {
    @Test
    void eachTargetIsJudgedFromItsLines() {
        Fidelity f = new Fidelity();
        f.lines.add(new Fidelity.Line("bytes_alloc exact matches (of 10 slab allocations)", 10, 9));
        f.lines.add(new Fidelity.Line("mm_page_alloc_zone_locked", 100, 300));
        f.lines.add(new Fidelity.Line("  of which pcp refills (percpu_refill=1)", 100, 86));
        f.lines.add(new Fidelity.Line("slab pages allocated: dentry", 100, 110));
        f.lines.add(new Fidelity.Line("slab pages allocated: maple_node", 0, 1));
        f.lines.add(new Fidelity.Line("slab pages allocated: kmalloc-512", 148, 133));
        f.lines.add(new Fidelity.Line("live objects at the end: dentry", 5, 50));
        assertEquals(List.of(
                "target bytes_alloc exact for every slab allocation: not met (9 of 10)",
                "target pcp refills within ±15 %: met (0.860)",
                "target slab pages per cache within ±10 %: 1 of 3 caches (outside, model / trace: maple_node 1 / 0, kmalloc-512 133 / 148)"),
                f.targets());
    }
}
