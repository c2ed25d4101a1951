package org.kmemlab.recorder;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import org.kmemlab.trace.InputError;
import org.tukaani.xz.XZInputStream;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;

/**
 * An input file or stdin, transparently decompressed (zstd, gzip, xz are recognised by their magic
 * bytes, not by the file name). Counts the compressed bytes consumed so that progress can be shown
 * against the file size. Binary importers that need random access get the decompressed bytes spooled
 * to a temporary file by {@link #asFile()}.
 */
public final class Input implements AutoCloseable {
    private final String name;
    private final Path path;
    private final long compressedSize;
    private final CountingStream counting;
    private final BufferedInputStream stream;
    private final String compression;
    private Path spooled;

    private Input(String name, Path path, InputStream raw, long size) throws IOException {
        this.name = name;
        this.path = path;
        this.compressedSize = size;
        this.counting = new CountingStream(raw);
        BufferedInputStream b = new BufferedInputStream(counting, 1 << 16);
        b.mark(8);
        byte[] m = new byte[6];
        int n = b.readNBytes(m, 0, 6);
        b.reset();
        InputStream dec;
        if (n >= 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd) {
            dec = new ZstdInputStreamNoFinalizer(b);
            compression = "zstd";
        } else if (n >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
            dec = header(name, "gzip", () -> new GZIPInputStream(b, 1 << 16));
            compression = "gzip";
        } else if (n >= 6 && (m[0] & 0xff) == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) {
            dec = header(name, "xz", () -> new XZInputStream(b));
            compression = "xz";
        } else {
            dec = b;
            compression = "none";
        }
        this.stream = dec == b ? b : new BufferedInputStream(new DecodeErrors(dec), 1 << 16);
    }

    private interface Opener { InputStream open() throws IOException; }

    /** gzip and xz read their stream header at once: a corrupt one is bad input at offset 0. */
    private static InputStream header(String name, String what, Opener o) throws IOException {
        try {
            return o.open();
        } catch (IOException | RuntimeException e) {
            if (e instanceof java.io.EOFException || e.getClass().getName().startsWith("org.tukaani") || e instanceof java.util.zip.ZipException) {
                throw InputError.atOffset(name, 0, "expected a " + what + " stream header: " + e.getMessage());
            }
            throw e;
        }
    }

    public static Input open(Path p) throws IOException {
        if (Files.isDirectory(p)) throw InputError.of(p, "is a directory, expected a trace file");
        if (!Files.exists(p)) throw InputError.of(p, "does not exist");
        if (!Files.isReadable(p)) throw InputError.of(p, "cannot be read");
        return new Input(p.toString(), p, Files.newInputStream(p), Files.size(p));
    }

    public static Input stdin() throws IOException {
        return new Input("<stdin>", null, System.in, -1);
    }

    /** For tests and generated input. */
    public static Input of(String name, InputStream in) throws IOException {
        return new Input(name, null, in, -1);
    }

    public String name() { return name; }

    /** The file on disk, or null for stdin. */
    public Path path() { return path; }

    public String compression() { return compression; }

    /** Size of the file as stored (compressed), or -1 for a stream. */
    public long compressedSize() { return compressedSize; }

    /** Compressed bytes consumed so far. */
    public long consumed() { return counting.count; }

    /** The decompressed bytes, buffered, with mark/reset support. */
    public BufferedInputStream stream() { return stream; }

    /** Up to {@code max} decompressed bytes from the start, without consuming them. */
    public byte[] peek(int max) throws IOException {
        stream.mark(max + 1);
        byte[] b = stream.readNBytes(max);
        stream.reset();
        return b;
    }

    /**
     * A seekable file with the decompressed content: the file itself when it is not compressed,
     * otherwise a temporary copy that is deleted on {@link #close()}.
     */
    public Path asFile() throws IOException {
        if (path != null && compression.equals("none")) return path;
        if (spooled == null) {
            spooled = Files.createTempFile("kmemlab-", ".spool");
            try (var out = Files.newOutputStream(spooled)) {
                copyBounded(stream, out, spoolLimit(compressedSize), name, "decompressed " + compression + " data");
            }
        }
        return spooled;
    }

    /**
     * What decompressed input may grow to before it is taken for a decompression bomb: a thousand times the
     * compressed size (traces compress about 10:1), and at least 4 GiB (stdin has no size).
     */
    public static long spoolLimit(long compressed) {
        long floor = 4L << 30;
        return compressed <= 0 || compressed > Long.MAX_VALUE / 1000 ? Math.max(floor, compressed) : Math.max(floor, compressed * 1000);
    }

    /** Copies {@code in} to {@code out}, failing as bad input once more than {@code limit} bytes came. */
    public static long copyBounded(InputStream in, java.io.OutputStream out, long limit, String name, String what) throws IOException {
        byte[] buf = new byte[1 << 16];
        long n = 0;
        for (int r; (r = in.read(buf)) > 0; ) {
            n += r;
            if (n > limit) throw InputError.of(name, what + " larger than " + limit + " bytes: expected a trace, not a decompression bomb");
            out.write(buf, 0, r);
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        try {
            if (path != null) stream.close();
        } finally {
            if (spooled != null) Files.deleteIfExists(spooled);
        }
    }

    /**
     * Turns a decompressor's complaint (zstd, gzip, xz data that is corrupt or cut short) into an input error
     * at the compressed offset reached; failures of the underlying file stay I/O errors.
     */
    private final class DecodeErrors extends InputStream {
        private final InputStream in;

        DecodeErrors(InputStream in) { this.in = in; }

        @Override public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (IOException | RuntimeException e) {
                if (counting.failed) throw e;
                throw InputError.atOffset(name, counting.count, "expected valid " + compression + " data: " + e.getMessage());
            }
        }

        @Override public void close() throws IOException { in.close(); }
    }

    private static final class CountingStream extends InputStream {
        private final InputStream in;
        long count;
        /** The file itself failed to read (as opposed to the decompressor rejecting its bytes). */
        boolean failed;

        CountingStream(InputStream in) { this.in = in; }

        @Override public int read() throws IOException {
            try {
                int b = in.read();
                if (b >= 0) count++;
                return b;
            } catch (IOException e) {
                failed = true;
                throw e;
            }
        }

        @Override public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = in.read(b, off, len);
                if (n > 0) count += n;
                return n;
            } catch (IOException e) {
                failed = true;
                throw e;
            }
        }

        @Override public void close() throws IOException { in.close(); }
    }
}
