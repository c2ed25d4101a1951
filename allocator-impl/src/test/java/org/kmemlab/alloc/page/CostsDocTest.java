package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.CostTable;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** COSTS.md documents every page.* cost with its default. */
class CostsDocTest {
    @Test
    void costsMdListsEveryEntryWithItsDefault() throws Exception {
        PageCosts.register();
        new PageCosts(new CostTable());
        String doc = Files.readString(Path.of("COSTS.md"));
        int n = 0;
        for (CostTable.Entry e : CostTable.defined().values()) {
            if (!e.name().startsWith("page.")) continue;
            n++;
            assertTrue(doc.contains("| `" + e.name() + "` | " + e.defaultNs() + " |"), "COSTS.md misses " + e.name() + " = " + e.defaultNs());
        }
        assertEquals(24, n);
    }
}
