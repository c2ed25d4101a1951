package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class EventNamesTest {
    @Test
    void kfreeRcuCallbackIsNormalisedToItsKvfreeName() {
        // "rcu: Rename *_kfree_callback functions" (2020) renamed the tracepoint; both spellings mean one event.
        assertEquals(EventNames.RCU_KVFREE_CALLBACK, EventNames.canonical("rcu:rcu_kfree_callback"));
        assertEquals(EventNames.RCU_KVFREE_CALLBACK, EventNames.canonical("rcu_kfree_callback"));
        assertEquals(EventNames.RCU_KVFREE_CALLBACK, EventNames.canonical("rcu_kvfree_callback"));
        assertEquals(EventNames.CGROUP_RMDIR, EventNames.canonical("cgroup_rmdir"));
    }

    @Test
    void theSeedEventsAreKnownAndTheirNeighboursAreNot() {
        for (String e : new String[] {EventNames.RCU_KVFREE_CALLBACK, EventNames.CGROUP_MKDIR, EventNames.CGROUP_RMDIR,
            EventNames.PROBE_KMEM_CACHE_CREATE, EventNames.PROBE_KMEM_CACHE_DESTROY, EventNames.KMEMLAB_CPU_WORK}) {
            assertTrue(EventNames.known(e), e);
        }
        assertFalse(EventNames.known("rcu:rcu_callback"));
        assertFalse(EventNames.known("cgroup:cgroup_attach_task"));
        assertFalse(EventNames.known("probe:do_sys_open"));
        assertFalse(EventNames.known("kmemlab:other"));
    }
}
