package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.apache.arrow.compression.ZstdCompressionCodec;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.junit.jupiter.api.Test;

/**
 * The kept-context codec against arrow-compression's own, which is the independent expectation: the same
 * bytes out for every buffer, and each decompresses the other's.
 */
class ZstdCodecTest {
    /** Column-like contents: zeros, small repeating integers, timestamps, random addresses, and sizes up to 1 MiB. */
    private static byte[][] samples() {
        Random r = new Random(42);
        byte[][] out = new byte[9][];
        out[0] = new byte[1];
        out[1] = new byte[4096];
        out[2] = new byte[65_536 * 4];
        for (int i = 0; i < out[2].length; i += 4) out[2][i] = (byte) r.nextInt(8);
        out[3] = new byte[65_536 * 8];
        long ts = 1_000_000_000L;
        for (int i = 0; i < out[3].length; i += 8) {
            ts += r.nextInt(5000);
            for (int b = 0; b < 8; b++) out[3][i + b] = (byte) (ts >>> (8 * b));
        }
        out[4] = new byte[65_536 * 8];
        r.nextBytes(out[4]);
        out[5] = new byte[1 << 20];
        for (int i = 0; i < out[5].length; i++) out[5][i] = (byte) (i % 251);
        out[6] = new byte[37];
        r.nextBytes(out[6]);
        out[7] = new byte[3];
        out[8] = new byte[200_000];
        for (int i = 0; i < out[8].length; i++) out[8][i] = (byte) ('a' + r.nextInt(3));
        return out;
    }

    private static ArrowBuf buf(BufferAllocator a, byte[] bytes) {
        ArrowBuf b = a.buffer(bytes.length);
        b.setBytes(0, bytes);
        b.writerIndex(bytes.length);
        return b;
    }

    private static byte[] bytes(ArrowBuf b) {
        byte[] out = new byte[(int) b.writerIndex()];
        b.getBytes(0, out);
        return out;
    }

    @Test
    void writesArrowsFramesAndReadsThem() {
        for (int level : new int[] {TraceWriter.ZSTD_LEVEL, 3, -5}) {
            try (BufferAllocator a = new RootAllocator(); ZstdCodec.Factory f = new ZstdCodec.Factory(level)) {
                CompressionCodec ours = f.createCodec(CompressionUtil.CodecType.ZSTD, level);
                CompressionCodec arrows = new ZstdCompressionCodec(level);
                // Twice over the same codec: the second round runs on contexts and scratch kept from the first.
                for (int round = 0; round < 2; round++) {
                    for (byte[] s : samples()) {
                        ArrowBuf mine = ours.compress(a, buf(a, s));
                        ArrowBuf theirs = arrows.compress(a, buf(a, s));
                        assertArrayEquals(bytes(theirs), bytes(mine), "level " + level + ", " + s.length + " bytes");
                        ArrowBuf back = ours.decompress(a, theirs);
                        assertArrayEquals(s, bytes(back));
                        ArrowBuf back2 = arrows.decompress(a, mine);
                        assertArrayEquals(s, bytes(back2));
                        back.close();
                        back2.close();
                    }
                }
            }
        }
    }

    @Test
    void oneCodecPerFactoryAndAClearErrorOnADamagedBuffer() {
        try (BufferAllocator a = new RootAllocator(); ZstdCodec.Factory f = new ZstdCodec.Factory()) {
            assertSame(f.createCodec(CompressionUtil.CodecType.ZSTD), f.createCodec(CompressionUtil.CodecType.ZSTD));
            CompressionCodec c = f.createCodec(CompressionUtil.CodecType.ZSTD);
            byte[] s = samples()[3];
            ArrowBuf z = c.compress(a, buf(a, s));
            // Claim one byte more than the frame holds: the length check must catch it and free what it allocated.
            z.setLong(0, s.length + 1L);
            assertThrows(RuntimeException.class, () -> c.decompress(a, z));
            z.close();
            assertEquals(0, a.getAllocatedMemory());
        }
    }
}
