package org.kmemlab.alloc.policy;

import java.util.Map;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.page.PageCosts;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.task.TaskCosts;

/**
 * Checks a {@code cost.<name>} override against the costs the model defines. Each component defines its
 * costs in a static initializer ({@link CostTable#define}), so the table is complete only once every
 * component class is initialized: this class initializes them first, so that a misspelt override is an
 * error instead of a silently unused entry.
 */
public final class CostNames {
    private CostNames() {}

    private static final Map<String, CostTable.Entry> ALL;

    static {
        for (Class<?> c : new Class<?>[]{PageCosts.class, SlabCosts.class, TaskCosts.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        ALL = CostTable.defined();
    }

    /** Every defined cost by name. */
    public static Map<String, CostTable.Entry> all() { return ALL; }

    /** Throws {@link IllegalArgumentException} naming the known costs when {@code name} is not one. */
    public static void check(String name) {
        if (ALL.containsKey(name)) return;
        throw new IllegalArgumentException("unknown cost 'cost." + name + "'; known costs: cost." + String.join(", cost.", ALL.keySet())
                + " (kmemlab policies --costs lists them with their sources)");
    }
}
