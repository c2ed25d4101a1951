package org.kmemlab.alloc.spl;

/**
 * The SPL knobs of allocator-model.md §C ({@code spl.*}), with the defaults of the 2012 patch e2dcc6e.
 *
 * @param growMode       SYNC_INLINE (pre-patch) or ASYNC_WQ_EMERGENCY (e2dcc6e)
 * @param growWaitTicks  how long a caller waits for the grow worker: 1 (e2dcc6e), HZ (165f13c), HZ/10 (e50e6cc)
 * @param hz             jiffies per second (one tick = 1e9/hz ns)
 * @param trigger        EVERY_TIMEOUT (e2dcc6e) or DEADLOCK_LATCH (165f13c)
 * @param index          LIST (e2dcc6e) or RBTREE (ed31634)
 * @param emergencyAlloc KMALLOC (e2dcc6e) or GET_FREE_PAGES (ee33517)
 */
public record SplConfig(GrowMode growMode, int growWaitTicks, int hz, EmergencyTrigger trigger, EmergencyIndex index,
                        EmergencyAlloc emergencyAlloc) {
    public enum GrowMode { SYNC_INLINE, ASYNC_WQ_EMERGENCY }
    public enum EmergencyTrigger { EVERY_TIMEOUT, DEADLOCK_LATCH }
    public enum EmergencyIndex { LIST, RBTREE }
    public enum EmergencyAlloc { KMALLOC, GET_FREE_PAGES }

    public static SplConfig defaults() {
        return new SplConfig(GrowMode.ASYNC_WQ_EMERGENCY, 1, 250, EmergencyTrigger.EVERY_TIMEOUT, EmergencyIndex.LIST,
                EmergencyAlloc.KMALLOC);
    }

    public long waitNs() { return growWaitTicks * (1_000_000_000L / hz); }

    public SplConfig withGrowMode(GrowMode v) { return new SplConfig(v, growWaitTicks, hz, trigger, index, emergencyAlloc); }
    public SplConfig withWaitTicks(int v) { return new SplConfig(growMode, v, hz, trigger, index, emergencyAlloc); }
    public SplConfig withTrigger(EmergencyTrigger v) { return new SplConfig(growMode, growWaitTicks, hz, v, index, emergencyAlloc); }
    public SplConfig withIndex(EmergencyIndex v) { return new SplConfig(growMode, growWaitTicks, hz, trigger, v, emergencyAlloc); }
    public SplConfig withEmergencyAlloc(EmergencyAlloc v) { return new SplConfig(growMode, growWaitTicks, hz, trigger, index, v); }
}
