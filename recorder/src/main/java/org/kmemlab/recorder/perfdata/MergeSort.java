package org.kmemlab.recorder.perfdata;

/**
 * Stable sort of record times with their file offsets: perf delivers records in time order and keeps
 * arrival order among equal times (tools/perf/util/ordered-events.c, {@code queue_event}). Per-CPU runs
 * are already sorted, so a bottom-up merge sort is close to linear here.
 */
final class MergeSort {
    private MergeSort() {}

    static void sort(long[] keys, long[] vals, int n) {
        long[] k2 = new long[n], v2 = new long[n];
        long[] ka = keys, va = vals, kb = k2, vb = v2;
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
                int i = lo, j = mid, o = lo;
                if (mid >= hi || ka[mid - 1] <= ka[mid]) {
                    System.arraycopy(ka, lo, kb, lo, hi - lo);
                    System.arraycopy(va, lo, vb, lo, hi - lo);
                    continue;
                }
                while (i < mid && j < hi) {
                    if (ka[j] < ka[i]) { kb[o] = ka[j]; vb[o++] = va[j++]; }
                    else { kb[o] = ka[i]; vb[o++] = va[i++]; }
                }
                while (i < mid) { kb[o] = ka[i]; vb[o++] = va[i++]; }
                while (j < hi) { kb[o] = ka[j]; vb[o++] = va[j++]; }
            }
            long[] t = ka; ka = kb; kb = t;
            t = va; va = vb; vb = t;
        }
        if (ka != keys) {
            System.arraycopy(ka, 0, keys, 0, n);
            System.arraycopy(va, 0, vals, 0, n);
        }
    }
}
