package org.kmemlab.alloc.policy;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.BiFunction;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.kvmalloc.KvmallocPolicy;
import org.kmemlab.alloc.mempool.MempoolSemantics;
import org.kmemlab.alloc.rcu.BnodeAlloc;
import org.kmemlab.alloc.slab.RcuDestroy;
import org.kmemlab.alloc.spl.SplConfig;

/**
 * The sub-knobs of allocator-model.md §C, each with its accepted values and how it changes an
 * {@link UpperConfig}. Values are case-insensitive; a bad value names the knob and what it accepts.
 */
public enum Knob {
    ERA("era", values(KernelEra.values()), (c, v) -> with(c, b -> b.era = parse(KernelEra.class, "era", v))),
    SPL_GROW_MODE("spl.growMode", values(SplConfig.GrowMode.values()),
            (c, v) -> with(c, b -> b.spl = b.spl.withGrowMode(parse(SplConfig.GrowMode.class, "spl.growMode", v)))),
    SPL_GROW_WAIT_TICKS("spl.growWaitTicks", "a positive integer, HZ or HZ/10",
            (c, v) -> with(c, b -> b.spl = b.spl.withWaitTicks(parseTicks(v, b.spl.hz())))),
    SPL_EMERGENCY_TRIGGER("spl.emergencyTrigger", values(SplConfig.EmergencyTrigger.values()),
            (c, v) -> with(c, b -> b.spl = b.spl.withTrigger(parse(SplConfig.EmergencyTrigger.class, "spl.emergencyTrigger", v)))),
    SPL_EMERGENCY_INDEX("spl.emergencyIndex", values(SplConfig.EmergencyIndex.values()),
            (c, v) -> with(c, b -> b.spl = b.spl.withIndex(parse(SplConfig.EmergencyIndex.class, "spl.emergencyIndex", v)))),
    SPL_EMERGENCY_ALLOC("spl.emergencyAlloc", values(SplConfig.EmergencyAlloc.values()),
            (c, v) -> with(c, b -> b.spl = b.spl.withEmergencyAlloc(parse(SplConfig.EmergencyAlloc.class, "spl.emergencyAlloc", v)))),
    KVMALLOC_POLICY("kvmalloc.policy", values(KvmallocPolicy.values()),
            (c, v) -> with(c, b -> b.kvmalloc = parse(KvmallocPolicy.class, "kvmalloc.policy", v))),
    KVMALLOC_CALLER_SCOPE("kvmalloc.callerScope", values(UpperConfig.CallerScope.values()),
            (c, v) -> with(c, b -> b.scope = parse(UpperConfig.CallerScope.class, "kvmalloc.callerScope", v))),
    BTRFS_EXTENT_STATE_ALLOC("btrfs.extentStateAlloc", values(UpperConfig.ExtentStateAlloc.values()),
            (c, v) -> with(c, b -> b.extentState = parse(UpperConfig.ExtentStateAlloc.class, "btrfs.extentStateAlloc", v))),
    MEMPOOL_SEMANTICS("mempool.semantics", values(MempoolSemantics.values()),
            (c, v) -> with(c, b -> b.mempool = parse(MempoolSemantics.class, "mempool.semantics", v))),
    MEMPOOL_MIN_NR("mempool.minNr", "a non-negative integer",
            (c, v) -> with(c, b -> b.minNr = parseInt("mempool.minNr", v, 0))),
    KFREE_RCU_BNODE_ALLOC("kfreeRcu.bnodeAlloc", values(BnodeAlloc.values()),
            (c, v) -> with(c, b -> b.bnode = parse(BnodeAlloc.class, "kfreeRcu.bnodeAlloc", v))),
    KFREE_RCU_PREEMPT_RT("kfreeRcu.preemptRt", "true|false",
            (c, v) -> with(c, b -> b.preemptRt = parseBool("kfreeRcu.preemptRt", v))),
    KFREE_RCU_MIN_CACHED_OBJS("kfreeRcu.minCachedObjs", "a non-negative integer",
            (c, v) -> with(c, b -> b.minCached = parseInt("kfreeRcu.minCachedObjs", v, 0))),
    SLAB_RCU_DESTROY("slab.rcuDestroy", values(RcuDestroy.values()),
            (c, v) -> with(c, b -> b.rcuDestroy = parse(RcuDestroy.class, "slab.rcuDestroy", v))),
    SLAB_DESTROY_CALLER("slab.destroyCaller", values(UpperConfig.DestroyCaller.values()),
            (c, v) -> with(c, b -> b.destroyCaller = parse(UpperConfig.DestroyCaller.class, "slab.destroyCaller", v))),
    VMALLOC_HONOURS_GFP("vmallocHonoursGfpForPageTables", "true|false",
            (c, v) -> with(c, b -> b.honours = parseBool("vmallocHonoursGfpForPageTables", v)));

    public final String key;
    public final String accepted;
    private final BiFunction<UpperConfig, String, UpperConfig> apply;

    Knob(String key, String accepted, BiFunction<UpperConfig, String, UpperConfig> apply) {
        this.key = key;
        this.accepted = accepted;
        this.apply = apply;
    }

    public UpperConfig apply(UpperConfig c, String value) { return apply.apply(c, value.trim()); }

    /** The knob named {@code key}, or an IllegalArgumentException listing every knob. */
    public static Knob byKey(String key) {
        for (Knob k : values()) if (k.key.equals(key)) return k;
        StringBuilder sb = new StringBuilder();
        for (Knob k : values()) sb.append(sb.length() == 0 ? "" : ", ").append(k.key);
        throw new IllegalArgumentException("unknown knob '" + key + "'; known knobs: " + sb);
    }

    private static String values(Enum<?>[] vs) {
        StringBuilder sb = new StringBuilder();
        for (Enum<?> e : vs) sb.append(sb.length() == 0 ? "" : "|").append(e.name());
        return sb.toString();
    }

    static <E extends Enum<E>> E parse(Class<E> type, String knob, String v) {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(v)) return e;
        throw new IllegalArgumentException("knob " + knob + ": '" + v + "' is not one of "
                + Arrays.toString(type.getEnumConstants()).replace(", ", "|").replace("[", "").replace("]", ""));
    }

    static int parseInt(String knob, String v, int min) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("knob " + knob + ": '" + v + "' is not an integer ≥ " + min);
    }

    static boolean parseBool(String knob, String v) {
        if (v.equalsIgnoreCase("true")) return true;
        if (v.equalsIgnoreCase("false")) return false;
        throw new IllegalArgumentException("knob " + knob + ": '" + v + "' is not true|false");
    }

    static int parseTicks(String v, int hz) {
        String u = v.toUpperCase(Locale.ROOT).replace(" ", "");
        if (u.equals("HZ")) return hz;
        if (u.startsWith("HZ/")) return Math.max(1, hz / parseInt("spl.growWaitTicks", u.substring(3), 1));
        return parseInt("spl.growWaitTicks", v, 1);
    }

    /** A mutable copy of a config for one edit. */
    private static final class B {
        String policy;
        KernelEra era;
        SplConfig spl;
        KvmallocPolicy kvmalloc;
        UpperConfig.CallerScope scope;
        UpperConfig.ExtentStateAlloc extentState;
        MempoolSemantics mempool;
        int minNr;
        BnodeAlloc bnode;
        boolean preemptRt;
        int minCached;
        RcuDestroy rcuDestroy;
        UpperConfig.DestroyCaller destroyCaller;
        boolean honours;
    }

    private static UpperConfig with(UpperConfig c, java.util.function.Consumer<B> edit) {
        B b = new B();
        b.policy = c.policy();
        b.era = c.era();
        b.spl = c.spl();
        b.kvmalloc = c.kvmalloc();
        b.scope = c.kvmallocCallerScope();
        b.extentState = c.btrfsExtentStateAlloc();
        b.mempool = c.mempoolSemantics();
        b.minNr = c.mempoolMinNr();
        b.bnode = c.kfreeRcuBnodeAlloc();
        b.preemptRt = c.kfreeRcuPreemptRt();
        b.minCached = c.kfreeRcuMinCachedObjs();
        b.rcuDestroy = c.rcuDestroy();
        b.destroyCaller = c.destroyCaller();
        b.honours = c.vmallocHonoursGfpForPageTables();
        edit.accept(b);
        return new UpperConfig(b.policy, b.era, b.spl, b.kvmalloc, b.scope, b.extentState, b.mempool, b.minNr, b.bnode,
                b.preemptRt, b.minCached, b.rcuDestroy, b.destroyCaller, b.honours);
    }
}
