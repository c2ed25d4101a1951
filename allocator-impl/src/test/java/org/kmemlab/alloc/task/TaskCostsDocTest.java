package org.kmemlab.alloc.task;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;

/** COSTS-task.md documents every cost TaskCosts defines, with its default. */
class TaskCostsDocTest {
    @Test
    void everyTaskCostIsDocumentedWithItsDefault() throws Exception {
        TaskCosts.init();
        String doc = Files.readString(Path.of("COSTS-task.md"));
        int n = 0;
        for (CostTable.Entry e : CostTable.defined().values()) {
            if (!e.name().startsWith("cpu.") && !e.name().startsWith("cgroup.")) continue;
            assertTrue(doc.contains("| `" + e.name() + "` | " + e.defaultNs() + " |"), "COSTS-task.md misses " + e.name());
            n++;
        }
        assertTrue(n >= 3, "the three task costs are defined");
    }
}
