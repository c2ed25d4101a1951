package org.kmemlab.alloc.policy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.page.PageCosts;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.task.TaskCosts;

class CostNamesTest {
    @Test
    void everyComponentsCostsAreKnownBeforeAnyComponentRuns() {
        // the names are compile-time constants: using them does not initialize their classes
        for (String n : new String[]{PageCosts.PCP_OP, SlabCosts.SLUB_ALLOC_FAST, TaskCosts.MEMCPY_PER_KIB}) {
            assertDoesNotThrow(() -> CostNames.check(n), n);
        }
    }

    @Test
    void aMisspeltCostIsRejectedWithTheKnownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CostNames.check("slub.alloc.fastpth"));
        assertTrue(e.getMessage().contains("cost.slub.alloc.fastpth"), e.getMessage());
        assertTrue(e.getMessage().contains("cost." + SlabCosts.SLUB_ALLOC_FAST), e.getMessage());
    }
}
