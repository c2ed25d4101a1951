package org.kmemlab.recorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Interns strings straight from byte ranges, so that the millions of repeated call sites, comms, cache
 * names and gfp strings of a trace cost one String each instead of one per line. Bounded: when full it
 * starts over, which keeps memory flat on hostile input with unbounded distinct values.
 */
public final class StringCache {
    private static final int SIZE = 1 << 14;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long M = 0x9E3779B97F4A7C15L;
    /** Each key's bytes, zero-padded to whole 8-byte words, so that comparing its last partial word is one masked load. */
    private final byte[][] keys = new byte[SIZE][];
    private final int[] lengths = new int[SIZE];
    private final String[] values = new String[SIZE];
    private int used;

    public String get(byte[] buf, int off, int len) {
        int h = hash(buf, off, len);
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
                keys[i] = padded(buf, off, len);
                lengths[i] = len;
                values[i] = s;
                used++;
                return s;
            }
            if (lengths[i] == len && equalPadded(k, buf, off, len)) return values[i];
        }
        return new String(buf, off, len, StandardCharsets.UTF_8);
    }

    /** The bytes [off, off + len) in an array of whole 8-byte words (at least one), zeros after them. */
    static byte[] padded(byte[] b, int off, int len) {
        byte[] k = new byte[Math.max(8, (len + 7) & ~7)];
        System.arraycopy(b, off, k, 0, len);
        return k;
    }

    /** The low {@code n} bytes (0 &lt; n &lt; 8) of a little-endian word. */
    static long lowBytes(int n) { return -1L >>> (64 - 8 * n); }

    /**
     * Eight bytes at a time: these strings are short, and this is the importer's hottest loop. The last
     * partial word is one load and a mask when eight bytes can be read there (the byte loop it replaces cost
     * a branch per byte, mispredicted at each string's own length).
     */
    static int hash(byte[] b, int off, int len) {
        long h = len;
        int i = off, e = off + len;
        for (; i + 8 <= e; i += 8) h = (h ^ (long) LONGS.get(b, i)) * M;
        long t = 0;
        if (i < e) {
            if (i + 8 <= b.length) {
                t = (long) LONGS.get(b, i) & lowBytes(e - i);
            } else {
                for (int s = 0; i < e; i++, s += 8) t |= (b[i] & 0xffL) << s;
            }
        }
        h = (h ^ t) * M;
        return (int) (h >>> 32) ^ (int) h;
    }

    /** Whether [off, off + len) of {@code b} holds the bytes of the padded key {@code k} (which holds len bytes). */
    static boolean equalPadded(byte[] k, byte[] b, int off, int len) {
        int i = 0;
        for (; i + 8 <= len; i += 8) if ((long) LONGS.get(k, i) != (long) LONGS.get(b, off + i)) return false;
        if (i == len) return true;
        if (off + i + 8 <= b.length) return ((long) LONGS.get(b, off + i) & lowBytes(len - i)) == (long) LONGS.get(k, i);
        for (; i < len; i++) if (k[i] != b[off + i]) return false;
        return true;
    }
}
