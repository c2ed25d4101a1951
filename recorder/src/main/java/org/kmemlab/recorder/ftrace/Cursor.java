package org.kmemlab.recorder.ftrace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.kmemlab.trace.InputError;

/**
 * Bounds-checked sequential reads over a buffer that holds part of a file starting at file offset
 * {@code base}. Every failure is an {@link InputError} naming the file, the absolute byte offset and what
 * was expected; lengths read from the file are checked against what remains before anything is
 * allocated from them.
 */
public final class Cursor {
    private final String file;
    private final ByteBuffer buf;
    private final long base;
    private int pos;
    private final int limit;

    public Cursor(String file, ByteBuffer buf, long base) {
        this.file = file;
        this.buf = buf;
        this.base = base;
        this.pos = buf.position();
        this.limit = buf.limit();
    }

    public Cursor order(ByteOrder o) { buf.order(o); return this; }
    public ByteOrder order() { return buf.order(); }
    public ByteBuffer buffer() { return buf; }
    public int pos() { return pos; }
    public void pos(int p) {
        if (p < 0 || p > limit) throw error(p, "a position inside the section");
        pos = p;
    }
    public long fileOffset() { return base + pos; }
    public int remaining() { return limit - pos; }
    public String file() { return file; }

    public InputError error(String expected) { return InputError.atOffset(file, base + pos, expected); }
    public InputError error(int at, String expected) { return InputError.atOffset(file, base + at, expected); }

    public void need(long n, String what) {
        if (n < 0 || n > limit - pos) {
            throw error(what + " (" + n + " bytes declared, " + (limit - pos) + " left)");
        }
    }

    public int u8(String what) { need(1, what); return buf.get(pos++) & 0xff; }
    public int u32(String what) { need(4, what); int v = buf.getInt(pos); pos += 4; return v; }
    public long u64(String what) { need(8, what); long v = buf.getLong(pos); pos += 8; return v; }

    /** A u32 or u64 size field checked to fit in what remains. */
    public int size32(String what) {
        long n = u32(what) & 0xffffffffL;
        need(n, what);
        return (int) n;
    }

    public int size64(String what) {
        long n = u64(what);
        need(n, what);
        return (int) n;
    }

    public byte[] bytes(int n, String what) {
        need(n, what);
        byte[] b = new byte[n];
        buf.get(pos, b);
        pos += n;
        return b;
    }

    public String string(int n, String what) { return new String(bytes(n, what), StandardCharsets.UTF_8); }

    /** A NUL-terminated string. */
    public String cstring(String what) {
        int e = pos;
        while (e < limit && buf.get(e) != 0) e++;
        if (e >= limit) throw error("a NUL-terminated " + what);
        byte[] b = new byte[e - pos];
        buf.get(pos, b);
        pos = e + 1;
        return new String(b, StandardCharsets.UTF_8);
    }

    public void skip(long n, String what) { need(n, what); pos += (int) n; }

    /** Reads exactly {@code magic}, else fails saying it was expected. */
    public void expect(byte[] magic, String what) {
        need(magic.length, what);
        for (int i = 0; i < magic.length; i++) {
            if (buf.get(pos + i) != magic[i]) throw error(what);
        }
        pos += magic.length;
    }
}
