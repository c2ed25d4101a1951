package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A 2 GiB garbage file (sparse: random bytes at both ends, a hole between) is rejected as bad input without
 * being read: the assertion is on the bytes this process read (/proc/self/io rchar), not on time; the time
 * is printed (bench/fuzz.sh shows it).
 */
class HugeGarbageTest {
    static final long SIZE = 2L << 30;
    @TempDir Path tmp;

    static long bytesRead() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (l.startsWith("rchar:")) return Long.parseLong(l.substring(6).strip());
        }
        throw new IllegalStateException("no rchar in /proc/self/io");
    }

    private Path sparse(String name, byte[] head) throws Exception {
        Path p = tmp.resolve(name);
        Random r = new Random(name.hashCode());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(SIZE);
            byte[] b = new byte[4096];
            r.nextBytes(b);
            System.arraycopy(head, 0, b, 0, head.length);
            f.seek(0);
            f.write(b);
            r.nextBytes(b);
            f.seek(SIZE - b.length);
            f.write(b);
        }
        return p;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"info, random", "stat, random", "import, random", "import, perf.data", "import, trace.dat", "info, arrow"})
    void aTwoGigabyteGarbageFileIsRejectedWithoutReadingIt(String command, String head) throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/io")), "needs Linux /proc/self/io");
        byte[] h = switch (head) {
            // a perf.data header whose data section is the whole file
            case "perf.data" -> ByteBuffer.allocate(104).order(ByteOrder.LITTLE_ENDIAN).put("PERFILE2".getBytes(StandardCharsets.US_ASCII))
                    .putLong(104).putLong(136).putLong(104).putLong(136).putLong(4096).putLong(SIZE - 8192).array();
            case "trace.dat" -> "\u0017\u0008\u0044tracing6\0\0\0\0\0\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1);
            // an Arrow continuation marker declaring a 16 MiB schema message of random bytes
            case "arrow" -> ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-1).putInt(16 << 20).array();
            default -> new byte[0];
        };
        Path f = sparse(command + "-" + head + ".bin", h);
        String[] args = command.equals("import") ? new String[] {"import", f.toString(), "-o", tmp.resolve("o.arrow").toString()}
                : new String[] {command, f.toString()};
        long before = bytesRead();
        long t0 = System.nanoTime();
        CliTest.Run r = CliTest.run(args);
        long ns = System.nanoTime() - t0;
        long read = bytesRead() - before;
        System.out.printf("huge-garbage %s %s: exit %d in %.3f s, %,d bytes read%n", command, head, r.status(), ns / 1e9, read);
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains(f.toString()), r.err());
        // Class loading and the like read a few MiB; reading the file would be 2 GiB.
        assertTrue(read < (64L << 20), "read " + read + " bytes of a " + SIZE + "-byte file");
    }
}
