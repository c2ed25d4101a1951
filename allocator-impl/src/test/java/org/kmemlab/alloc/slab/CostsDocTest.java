package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;

/** COSTS-slab.md documents every cost SlabCosts defines. */
class CostsDocTest {
    @Test
    void everyUpperHalfCostIsDocumented() throws Exception {
        SlabCosts.init();
        SlabCosts.resolve(new CostTable());
        String doc = Files.readString(Path.of("COSTS-slab.md"));
        for (var e : CostTable.defined().values()) {
            if (isUpper(e.name())) {
                assertTrue(doc.contains("`" + e.name() + "`"), "COSTS-slab.md misses " + e.name());
            }
        }
    }

    private static boolean isUpper(String n) {
        for (String p : new String[] {"slub.", "slab.", "kmalloc.", "spl.", "vmalloc.", "mempool.", "kfree_rcu."}) {
            if (n.startsWith(p)) return true;
        }
        return false;
    }
}
