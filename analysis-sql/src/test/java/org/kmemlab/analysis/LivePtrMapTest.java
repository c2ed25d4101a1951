package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** {@link LivePtrMap} against java.util.HashMap over seeded alloc/free churn, colliding keys and key 0 included. */
class LivePtrMapTest {
    @Test
    void agreesWithHashMapUnderChurn() {
        for (long seed = 1; seed <= 4; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            LivePtrMap m = new LivePtrMap(8);
            Map<Long, Long> ref = new HashMap<>();
            // few distinct keys, so that puts replace, removes hit, and the table grows and probes long runs
            long[] keys = new long[2_000];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = switch (i % 4) {
                    case 0 -> 0xffff888000000000L + 64L * i;             // kernel slab addresses
                    case 1 -> (long) i << 32;                            // equal low bits: a poor hash would cluster
                    case 2 -> rnd.nextLong();
                    default -> i == 3 ? 0 : -i;                          // key 0 (a failed allocation's ptr)
                };
            }
            for (int op = 0; op < 400_000; op++) {
                long k = keys[rnd.nextInt(keys.length)];
                if (rnd.nextInt(5) < 3) {
                    long v = rnd.nextLong() & Long.MAX_VALUE;
                    Long old = ref.put(k, v);
                    assertEquals(old == null ? -1 : old, m.put(k, v, -1), "put " + k + " at op " + op);
                } else {
                    Long want = ref.remove(k);
                    assertEquals(want == null ? -1 : want, m.remove(k, -1), "remove " + k + " at op " + op);
                }
                if (op % 1000 == 0) assertEquals(ref.size(), m.size(), "size at op " + op);
            }
            for (Map.Entry<Long, Long> e : ref.entrySet()) assertEquals(e.getValue(), m.remove(e.getKey(), -1));
            assertEquals(0, m.size());
        }
    }
}
