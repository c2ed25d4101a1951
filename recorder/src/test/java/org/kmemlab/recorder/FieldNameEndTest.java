package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * A field's name ends at its first '=' or space, found eight bytes at a time and also past the end of the line
 * while the array allows: the answer must be that of a byte-by-byte search confined to the line, whatever bytes
 * follow it.
 */
class FieldNameEndTest {
    @Test
    void sameAsAByteByByteSearchInsideTheRange() {
        Random r = new Random(3);
        byte[] alphabet = {'a', 'b', '=', ' ', '_', (byte) 0xbd, (byte) 0xa0, 0x3c, 0x3e, 0x1f, 0x21, 0};
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[1 + r.nextInt(40)];
            // Mostly name bytes, so that the first match falls anywhere in the first words.
            for (int i = 0; i < b.length; i++) b[i] = r.nextInt(6) == 0 ? alphabet[r.nextInt(alphabet.length)] : (byte) ('a' + r.nextInt(26));
            int from = r.nextInt(b.length + 1), to = from + r.nextInt(b.length - from + 1);
            int expected = to;
            for (int i = from; i < to; i++) {
                if (b[i] == '=' || b[i] == ' ') {
                    expected = i;
                    break;
                }
            }
            assertEquals(expected, TextImporter.equalsOrSpace(b, from, to), () -> java.util.Arrays.toString(b) + " from " + from + " to " + to);
        }
    }
}
