package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;

import com.carrotsearch.hppc.LongHashSet;

/**
 * The one-table tracker of {@link Anomalies} against the three hash sets it replaced (live, freed, freedOld),
 * kept here as the reference: random allocations and frees over a small key space, with limits small enough
 * that the live limit and many freed generations are crossed, must give the same counts after every step.
 */
class AnomaliesTrackerTest {
    /** The previous implementation, verbatim but for the limits. */
    static final class Reference {
        final int maxLive, generation;
        final LongHashSet live = new LongHashSet();
        LongHashSet freed = new LongHashSet();
        LongHashSet freedOld = new LongHashSet();
        long doubleFree, freeUnknown, allocLive, untracked;

        Reference(int maxLive, int generation) {
            this.maxLive = maxLive;
            this.generation = generation;
        }

        void alloc(long k) {
            if (live.contains(k)) {
                allocLive++;
                return;
            }
            freed.remove(k);
            freedOld.remove(k);
            if (live.size() >= maxLive) {
                untracked++;
                return;
            }
            live.add(k);
        }

        boolean free(long k) {
            if (live.remove(k)) {
                remember(k);
                return true;
            }
            return false;
        }

        void notLive(long k) {
            if (freed.contains(k) || freedOld.contains(k)) {
                doubleFree++;
            } else {
                freeUnknown++;
                remember(k);
            }
        }

        private void remember(long k) {
            if (freed.size() >= generation) {
                freedOld = freed;
                freed = new LongHashSet();
            }
            freed.add(k);
        }
    }

    private static void run(long seed, int keys, int maxLive, int generation, int steps) {
        Random r = new Random(seed);
        Reference ref = new Reference(maxLive, generation);
        Anomalies.Tracker t = new Anomalies.Tracker(maxLive, generation);
        for (int i = 0; i < steps; i++) {
            // Key 0 too: page frame 0 is a valid key for the page tracker.
            long k = r.nextInt(keys) * 64L;
            if (r.nextInt(100) < 52) {
                ref.alloc(k);
                t.alloc(k);
            } else {
                boolean a = ref.free(k);
                assertEquals(a, t.free(k), "free at step " + i);
                if (!a) {
                    ref.notLive(k);
                    t.notLive(k);
                }
            }
            if (i % 97 == 0 || i == steps - 1) {
                String at = "seed " + seed + " step " + i;
                assertEquals(ref.allocLive, t.allocLive, at);
                assertEquals(ref.doubleFree, t.doubleFree, at);
                assertEquals(ref.freeUnknown, t.freeUnknown, at);
                assertEquals(ref.untracked, t.untracked, at);
            }
        }
    }

    @Test
    void agreesWithTheThreeSetsAcrossGenerationsAndTheLiveLimit() {
        run(1, 500, 100, 40, 200_000);
        run(2, 5_000, 1_000, 300, 200_000);
        run(3, 50, 1_000_000, 7, 50_000);
        run(4, 100_000, 20_000, 10_000, 300_000);
    }
}
