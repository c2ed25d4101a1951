package org.kmemlab.recorder;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Interns strings straight from byte ranges, so that the millions of repeated call sites, comms, cache
 * names and gfp strings of a trace cost one String each instead of one per line. Bounded: when full it
 * starts over, which keeps memory flat on hostile input with unbounded distinct values.
 */
public final class StringCache {
    private static final int SIZE = 1 << 14;
    private final byte[][] keys = new byte[SIZE][];
    private final String[] values = new String[SIZE];
    private int used;

    public String get(byte[] buf, int off, int len) {
        int h = 1;
        for (int i = off, e = off + len; i < e; i++) h = 31 * h + buf[i];
        h ^= h >>> 16;
        int mask = SIZE - 1;
        for (int i = h & mask, probes = 0; probes < 8; i = (i + 1) & mask, probes++) {
            byte[] k = keys[i];
            if (k == null) {
                if (used > SIZE / 2) {
                    Arrays.fill(keys, null);
                    Arrays.fill(values, null);
                    used = 0;
                    i = h & mask;
                }
                String s = new String(buf, off, len, StandardCharsets.UTF_8);
                keys[i] = Arrays.copyOfRange(buf, off, off + len);
                values[i] = s;
                used++;
                return s;
            }
            if (k.length == len && Arrays.equals(k, 0, len, buf, off, off + len)) return values[i];
        }
        return new String(buf, off, len, StandardCharsets.UTF_8);
    }
}
