package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The cache compares and hashes a string's last partial word with one masked load when eight bytes can be read
 * there, and byte by byte at the very end of the array: both must give what a plain byte comparison says,
 * whatever bytes follow the string.
 */
class StringCacheTest {
    @Test
    void internsEveryLengthAtEveryDistanceFromTheArrayEnd() {
        Random r = new Random(7);
        for (int len = 0; len <= 25; len++) {
            byte[] text = new byte[len];
            for (int i = 0; i < len; i++) text[i] = (byte) ('a' + r.nextInt(26));
            String expected = new String(text, StandardCharsets.UTF_8);
            StringCache c = new StringCache();
            String first = null;
            for (int tail = 0; tail <= 10; tail++) {
                // The same text with `tail` random bytes after it: the tail must never matter.
                byte[] buf = new byte[3 + len + tail];
                for (int i = 0; i < buf.length; i++) buf[i] = (byte) r.nextInt(256);
                System.arraycopy(text, 0, buf, 3, len);
                String s = c.get(buf, 3, len);
                assertEquals(expected, s, "len " + len + " tail " + tail);
                if (first == null) first = s; else assertSame(first, s, "len " + len + " tail " + tail);
                assertEquals(hashByBytes(text, 0, len), StringCache.hash(buf, 3, len), "len " + len + " tail " + tail);
            }
        }
    }

    @Test
    void tellsApartStringsThatDifferOnlyInTheirLastByte() {
        StringCache c = new StringCache();
        for (int len = 1; len <= 17; len++) {
            byte[] a = "abcdefghijklmnopq".substring(0, len).getBytes(StandardCharsets.US_ASCII);
            byte[] b = a.clone();
            b[len - 1] = 'Z';
            byte[] bufA = new byte[len + 8], bufB = new byte[len + 8];
            System.arraycopy(a, 0, bufA, 0, len);
            System.arraycopy(b, 0, bufB, 0, len);
            assertEquals(new String(a, StandardCharsets.US_ASCII), c.get(bufA, 0, len));
            assertEquals(new String(b, StandardCharsets.US_ASCII), c.get(bufB, 0, len));
            byte[] key = StringCache.padded(a, 0, len);
            assertTrue(StringCache.equalPadded(key, bufA, 0, len));
            assertFalse(StringCache.equalPadded(key, bufB, 0, len));
            // At the array's end, where no whole word can be read past the string.
            assertTrue(StringCache.equalPadded(key, a, 0, len));
            assertFalse(StringCache.equalPadded(key, b, 0, len));
        }
    }

    /** The hash, word by word, with the last partial word gathered one byte at a time. */
    private static int hashByBytes(byte[] b, int off, int len) {
        long m = 0x9E3779B97F4A7C15L, h = len;
        int i = off, e = off + len;
        for (; i + 8 <= e; i += 8) {
            long w = 0;
            for (int k = 0; k < 8; k++) w |= (b[i + k] & 0xffL) << (8 * k);
            h = (h ^ w) * m;
        }
        long t = 0;
        for (int s = 0; i < e; i++, s += 8) t |= (b[i] & 0xffL) << s;
        h = (h ^ t) * m;
        return (int) (h >>> 32) ^ (int) h;
    }
}
