package org.kmemlab.alloc.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.kvmalloc.KvmallocPolicy;
import org.kmemlab.alloc.mempool.MempoolSemantics;
import org.kmemlab.alloc.rcu.BnodeAlloc;
import org.kmemlab.alloc.slab.RcuDestroy;
import org.kmemlab.alloc.spl.SplConfig;

/**
 * Looks policies up by name and resolves them with knob overrides into an {@link UpperConfig}; lists
 * them for {@code kmemlab policies}.
 */
public final class PolicyRegistry {
    private PolicyRegistry() {}

    /** The knob defaults every preset starts from (the baseline). */
    public static UpperConfig defaults() {
        return new UpperConfig("baseline", KernelEra.E2020,
                SplConfig.defaults().withGrowMode(SplConfig.GrowMode.SYNC_INLINE), KvmallocPolicy.KV2017,
                UpperConfig.CallerScope.NONE, UpperConfig.ExtentStateAlloc.SLAB, MempoolSemantics.MP2012, 16,
                BnodeAlloc.NOWAIT_UNDER_LOCK, false, 5, RcuDestroy.SYNC_PER_CACHE,
                UpperConfig.DestroyCaller.MEMCG_OFFLINE, false);
    }

    public static List<PolicyPreset> all() { return List.of(PolicyPreset.values()); }

    public static PolicyPreset byName(String name) {
        for (PolicyPreset p : PolicyPreset.values()) if (p.id.equals(name)) return p;
        List<String> names = new ArrayList<>();
        for (PolicyPreset p : PolicyPreset.values()) names.add(p.id);
        throw new IllegalArgumentException("unknown policy '" + name + "'; known policies: " + String.join(", ", names));
    }

    /**
     * The configuration of policy {@code name} with {@code overrides} applied on top (knob → value).
     * Unless set explicitly, {@code vmallocHonoursGfpForPageTables} follows the era (true only in ENOW)
     * and so does {@code mempool.semantics} (E2011 → MP2011, ENOW → MPNOW, else MP2012).
     */
    public static UpperConfig configure(String name, Map<String, String> overrides) {
        PolicyPreset p = byName(name);
        UpperConfig c = defaults();
        c = new UpperConfig(p.id, c.era(), c.spl(), c.kvmalloc(), c.kvmallocCallerScope(), c.btrfsExtentStateAlloc(),
                c.mempoolSemantics(), c.mempoolMinNr(), c.kfreeRcuBnodeAlloc(), c.kfreeRcuPreemptRt(),
                c.kfreeRcuMinCachedObjs(), c.rcuDestroy(), c.destroyCaller(), c.vmallocHonoursGfpForPageTables());
        for (Map.Entry<String, String> e : p.orderedKnobs().entrySet()) c = Knob.byKey(e.getKey()).apply(c, e.getValue());
        boolean honoursSet = false;
        boolean semanticsSet = p.orderedKnobs().containsKey(Knob.MEMPOOL_SEMANTICS.key);
        // era first, so that HZ-relative and era-derived values see the final era
        if (overrides.containsKey("era")) c = Knob.ERA.apply(c, overrides.get("era"));
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(overrides).entrySet()) {
            Knob k = Knob.byKey(e.getKey());
            if (k == Knob.ERA) continue;
            if (k == Knob.VMALLOC_HONOURS_GFP) honoursSet = true;
            if (k == Knob.MEMPOOL_SEMANTICS) semanticsSet = true;
            c = k.apply(c, e.getValue());
        }
        // era-derived defaults (§C: vmallocHonoursGfpForPageTables "era-derived", mempool.semantics "era")
        if (!honoursSet && c.era() == KernelEra.ENOW) c = Knob.VMALLOC_HONOURS_GFP.apply(c, "true");
        if (!semanticsSet) {
            String sem = c.era() == KernelEra.E2011 ? "MP2011" : c.era() == KernelEra.ENOW ? "MPNOW" : "MP2012";
            c = Knob.MEMPOOL_SEMANTICS.apply(c, sem);
        }
        return c;
    }

    /** One line per policy, for {@code kmemlab policies}. */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        for (PolicyPreset p : PolicyPreset.values()) sb.append(String.format("%-24s %s%n", p.id, p.description));
        return sb.toString();
    }

    /** One line per knob with its accepted values. */
    public static String describeKnobs() {
        StringBuilder sb = new StringBuilder();
        for (Knob k : Knob.values()) sb.append(String.format("%-32s %s%n", k.key, k.accepted));
        return sb.toString();
    }
}
