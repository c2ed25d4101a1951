package org.kmemlab.recorder;

import java.io.IOException;
import java.io.InputStream;

import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.EventNormalizer;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/**
 * The shared machinery of the text importers: a byte-level line loop (no per-line String), number
 * parsing from bytes, interning of repeated values, the {@code key=value} field list that both
 * {@code perf script} and ftrace print after the event name, and the counting of malformed lines.
 * Subclasses parse their own line header ({@link #header}).
 */
abstract class TextImporter implements Importer {
    protected final StringCache strings = new StringCache();
    /** Field names live in their own cache so that a flood of distinct values never evicts them. */
    private final StringCache keys = new StringCache();
    protected EventNormalizer norm;
    protected TraceWriter out;
    protected ImportOptions opts;
    protected String inputName;
    protected long lineNo;
    /** The last event, held until no call-chain line can follow; handed to the writer by exchange, not copied. */
    private TraceEvent pending = new TraceEvent();
    private boolean hasPending;
    private final java.util.ArrayList<String> frames = new java.util.ArrayList<>();

    /** Where the fields start after a successful {@link #header}. */
    protected int fieldsStart;

    @Override
    public void importTo(Input in, TraceWriter out, ImportOptions opts) throws IOException {
        this.out = out;
        this.opts = opts;
        this.norm = new EventNormalizer(opts.gfpCodec());
        this.inputName = in.name();
        out.meta("gfp_layout", norm.gfpCodec().layout().name());
        InputStream s = in.stream();
        TextImporter first = twoThreads ? forkParser() : null;
        if (first != null) {
            TextImporter[] parsers = {first, forkParser()};
            for (TextImporter p : parsers) {
                p.opts = opts;
                p.inputName = inputName;
                p.norm = new EventNormalizer(opts.gfpCodec());
            }
            importInBlocks(in, s, parsers);
            return;
        }
        byte[] buf = new byte[1 << 20];
        int len = 0;
        lineNo = 0;
        while (true) {
            int n = s.read(buf, len, buf.length - len);
            if (n < 0) break;
            len += n;
            int start = 0;
            for (int i = indexOf(buf, start, len); i >= 0; i = indexOf(buf, start, len)) {
                int end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
                lineNo++;
                line(buf, start, end);
                start = i + 1;
            }
            if (start == 0 && len == buf.length) {
                // One line longer than the buffer: grow rather than split it.
                buf = java.util.Arrays.copyOf(buf, buf.length * 2);
                continue;
            }
            System.arraycopy(buf, start, buf, 0, len - start);
            len -= start;
            if ((lineNo & 0x3fff) == 0) opts.progress().accept(in.consumed());
        }
        if (len > 0) {
            lineNo++;
            line(buf, 0, len);
        }
        flushPending();
        opts.progress().accept(in.consumed());
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long LO = 0x0101010101010101L, HI = 0x8080808080808080L, SPACES = LO * ' ';

    /** The next '\n' in [from, to), or -1. */
    private static int indexOf(byte[] b, int from, int to) { return find(b, from, to, (byte) '\n'); }

    /** The next space in [from, to), or {@code to}. */
    protected static int spaceOrEnd(byte[] b, int from, int to) {
        int i = find(b, from, to, (byte) ' ');
        return i < 0 ? to : i;
    }

    /** The next byte {@code c} in [from, to), or -1: eight bytes at a time (the classic has-zero-byte test on bytes XOR c). */
    private static int find(byte[] b, int from, int to, byte c) {
        long pattern = LO * (c & 0xff);
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ pattern;
            long t = (x - LO) & ~x & HI;
            if (t != 0) return i + (Long.numberOfTrailingZeros(t) >>> 3);
        }
        for (; i < to; i++) if (b[i] == c) return i;
        return -1;
    }

    private static final long EQUALS = LO * '=';

    /**
     * The first '=' or space in [from, to), or {@code to}: where a field's name ends. Eight bytes at a time, also
     * past {@code to} (the answer is cut there) while the array has eight bytes to read: the byte loop with two
     * compares per byte and a mispredicted exit was a fifth of the field parse. Each half of the test finds its
     * own first match exactly (a false hit can only follow a true one), so the lower of the two is the answer.
     */
    static int equalsOrSpace(byte[] b, int from, int to) {
        int i = from;
        while (i < to && i + 8 <= b.length) {
            long w = (long) LONGS.get(b, i);
            long x = w ^ EQUALS, y = w ^ SPACES;
            long t = ((x - LO) & ~x | (y - LO) & ~y) & HI;
            if (t != 0) return Math.min(i + (Long.numberOfTrailingZeros(t) >>> 3), to);
            i += 8;
        }
        for (; i < to; i++) if (b[i] == '=' || b[i] == ' ') return i;
        return to;
    }

    /**
     * The first byte in [from, to) that is not a space, or {@code to}. perf script pads the command and the event
     * name into columns: a line of tar carries some forty spaces in two runs.
     */
    protected static int skipSpaces(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ SPACES;
            if (x != 0) return i + (Long.numberOfTrailingZeros(x) >>> 3);
        }
        while (i < to && b[i] == ' ') i++;
        return i;
    }

    private void line(byte[] b, int start, int end) {
        int p = start;
        while (p < end && (b[p] == ' ' || b[p] == '\t')) p++;
        if (p == end) {
            flushPending();
            return;
        }
        if (b[start] == '\t') {
            // A call-chain line belongs to the event above it; a dropped (malformed) event drops its chain too.
            if (hasPending) frame(b, p, end);
            return;
        }
        if (b[p] == '#') {
            comment(b, p, end);
            return;
        }
        if (special(b, p, end)) return;
        flushPending();
        TraceEvent e = pending;
        e.clear();
        String err = header(b, p, end, e);
        if (err != null) {
            malformed(err);
            return;
        }
        err = fields(b, fieldsStart, end, e);
        if (err != null) {
            malformed(err);
            return;
        }
        hasPending = true;
    }

    /** Parses the line header up to the fields into {@code e}; sets {@link #fieldsStart}. Returns an error or null. */
    protected abstract String header(byte[] b, int p, int end, TraceEvent e);

    /** Comment lines: the ftrace header tells the CPU count. */
    protected void comment(byte[] b, int p, int end) { }

    /** Lines that are neither events nor comments (lost-event markers). Return true when consumed. */
    protected boolean special(byte[] b, int p, int end) { return false; }

    private void frame(byte[] b, int p, int end) {
        String sym = frameSymbol(b, p, end);
        if (sym != null) frames.add(sym);
    }

    private String frameSymbol(byte[] b, int p, int end) {
        // "ffffffff81636e0d __kmalloc_cache_node_noprof+0x20d ([kernel.kallsyms])": keep the symbol.
        int q = p;
        while (q < end && b[q] != ' ') q++;
        while (q < end && b[q] == ' ') q++;
        int symEnd = q;
        while (symEnd < end && b[symEnd] != ' ' && b[symEnd] != '+') symEnd++;
        return q < symEnd ? strings.get(b, q, symEnd - q) : null;
    }

    // ---- Parsing on two threads ----------------------------------------------------------------------
    //
    // The input is cut into blocks at line boundaries. Two parser threads take the blocks in turn, each with
    // its own importer instance (own string caches and normaliser), and parse a few blocks ahead of the
    // calling thread. Parsing a block turns every line into a record (blank, call-chain frame, comment,
    // event, or malformed with its reason) without touching the writer; the calling thread reads the input
    // and replays the records in input order through the same state machine as line(): pending event, its
    // call chain, stack ids, malformed counting with exact line numbers, strict mode. So the output is the
    // one-thread output, whatever the cut points (a call chain may span two blocks).
    //
    // The calling thread does not parse: when it parsed every other block, the helper sat idle while the
    // calling thread replayed both blocks and read the next two (tar took 1.04 s of CPU in 0.75 s on two
    // idle cores), and the calling thread, with the most work of the three, was the critical path.

    /**
     * A further instance of this importer to parse blocks on another thread, or null to parse in one pass
     * (formats whose comment or special lines have side effects, which records cannot replay).
     */
    protected TextImporter forkParser() { return null; }

    /** Tests turn the two-thread parse off to compare it with the one-pass loop. */
    static boolean twoThreads = true;

    /** Block size of the two-thread parse; tests lower it to cut inputs at many points. */
    static int blockSize = 1 << 20;

    /** Blocks read ahead of the replay: enough that neither parser waits for the calling thread. */
    static final int BLOCKS_AHEAD = 6;

    private static final byte R_BLANK = 0, R_FRAME = 1, R_COMMENT = 2, R_EVENT = 3, R_MALFORMED = 4;

    private static final class Block {
        byte[] buf = new byte[blockSize];
        /** Bytes [0, len) hold whole lines; only the input's last line may lack its newline. */
        int len;
        int n;
        byte[] kinds = new byte[4096];
        TraceEvent[] events = new TraceEvent[4096];
        String[] texts = new String[4096];

        void ensure(int i) {
            if (i < kinds.length) return;
            int c = kinds.length * 2;
            kinds = java.util.Arrays.copyOf(kinds, c);
            events = java.util.Arrays.copyOf(events, c);
            texts = java.util.Arrays.copyOf(texts, c);
        }

        TraceEvent event(int i) {
            TraceEvent e = events[i];
            if (e == null) events[i] = e = new TraceEvent();
            return e;
        }
    }

    private byte[] carry = new byte[0];
    private int carryLen;
    private boolean eof;

    /** Fills {@code bl} with the bytes left over from the previous block and then whole lines. False at the end. */
    private boolean fill(InputStream s, Block bl) throws IOException {
        if (eof && carryLen == 0) return false;
        if (bl.buf.length < Math.max(blockSize, carryLen * 2)) bl.buf = new byte[Math.max(blockSize, carryLen * 2)];
        byte[] buf = bl.buf;
        System.arraycopy(carry, 0, buf, 0, carryLen);
        int len = carryLen;
        carryLen = 0;
        while (true) {
            while (!eof && len < buf.length) {
                int n = s.read(buf, len, buf.length - len);
                if (n < 0) eof = true; else len += n;
            }
            if (eof) {
                bl.len = len;
                return len > 0;
            }
            int nl = len - 1;
            while (nl >= 0 && buf[nl] != '\n') nl--;
            if (nl >= 0) {
                int rest = len - nl - 1;
                if (carry.length < rest) carry = new byte[Math.max(rest, carry.length * 2)];
                System.arraycopy(buf, nl + 1, carry, 0, rest);
                carryLen = rest;
                bl.len = nl + 1;
                return true;
            }
            // One line longer than the buffer: grow rather than split it.
            buf = bl.buf = java.util.Arrays.copyOf(buf, buf.length * 2);
        }
    }

    /** Turns every line of the block into a record; touches nothing but this instance's caches. */
    private void parseBlock(Block bl) {
        byte[] b = bl.buf;
        int len = bl.len, start = 0, n = 0;
        while (start < len) {
            int i = indexOf(b, start, len);
            int end, next;
            if (i < 0) {
                end = len;
                next = len;
            } else {
                end = i > start && b[i - 1] == '\r' ? i - 1 : i;
                next = i + 1;
            }
            bl.ensure(n);
            bl.texts[n] = null;
            bl.kinds[n] = record(b, start, end, bl, n);
            n++;
            start = next;
        }
        bl.n = n;
    }

    /** The record of one line: the parsing half of line(). */
    private byte record(byte[] b, int start, int end, Block bl, int n) {
        int p = skipSpaces(b, start, end);
        while (p < end && (b[p] == ' ' || b[p] == '\t')) p++;
        if (p == end) return R_BLANK;
        if (b[start] == '\t') {
            bl.texts[n] = frameSymbol(b, p, end);
            return R_FRAME;
        }
        if (b[p] == '#') return R_COMMENT;
        TraceEvent e = bl.event(n);
        e.clear();
        String err = header(b, p, end, e);
        if (err == null) err = fields(b, fieldsStart, end, e);
        if (err != null) {
            bl.texts[n] = err;
            return R_MALFORMED;
        }
        return R_EVENT;
    }

    /** The state-machine half of line(), over a parsed block, in input order. */
    private void replay(Block bl) {
        byte[] kinds = bl.kinds;
        for (int i = 0, n = bl.n; i < n; i++) {
            lineNo++;
            switch (kinds[i]) {
                case R_BLANK -> flushPending();
                case R_FRAME -> {
                    if (hasPending && bl.texts[i] != null) frames.add(bl.texts[i]);
                }
                case R_COMMENT -> { }
                case R_EVENT -> {
                    flushPending();
                    // Only a call-chain line (possibly after comments) can still add to this event; when the
                    // next record flushes it anyway, hand it over now rather than through pending.
                    byte next = i + 1 < n ? kinds[i + 1] : R_COMMENT;
                    if (next == R_EVENT || next == R_BLANK || next == R_MALFORMED) {
                        bl.events[i] = out.exchange(bl.events[i]);
                    } else {
                        TraceEvent e = bl.events[i];
                        bl.events[i] = pending;
                        pending = e;
                        hasPending = true;
                    }
                }
                default -> {
                    flushPending();
                    malformed(bl.texts[i]);
                }
            }
        }
    }

    private record Parsing(Block block, java.util.concurrent.Future<?> done) {}

    private void importInBlocks(Input in, InputStream s, TextImporter[] parsers) throws IOException {
        lineNo = 0;
        eof = false;
        carryLen = 0;
        java.util.concurrent.ExecutorService[] pools = new java.util.concurrent.ExecutorService[parsers.length];
        java.util.ArrayDeque<Parsing> ahead = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Block> spare = new java.util.ArrayDeque<>();
        long blocks = 0;
        boolean more = true;
        try {
            while (true) {
                while (more && ahead.size() < BLOCKS_AHEAD) {
                    Block bl = spare.isEmpty() ? new Block() : spare.poll();
                    if (!fill(s, bl)) {
                        more = false;
                        break;
                    }
                    int k = (int) (blocks++ % parsers.length);
                    if (pools[k] == null) {
                        pools[k] = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                            Thread t = new Thread(r, "kmemlab-text-parser");
                            t.setDaemon(true);
                            return t;
                        });
                    }
                    TextImporter p = parsers[k];
                    ahead.add(new Parsing(bl, pools[k].submit(() -> p.parseBlock(bl))));
                }
                Parsing next = ahead.poll();
                if (next == null) break;
                await(next.done());
                replay(next.block());
                spare.add(next.block());
                opts.progress().accept(in.consumed());
            }
        } finally {
            for (var pool : pools) if (pool != null) pool.shutdownNow();
        }
        flushPending();
        opts.progress().accept(in.consumed());
    }

    private static void await(java.util.concurrent.Future<?> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while parsing");
        } catch (java.util.concurrent.ExecutionException ex) {
            Throwable c = ex.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IOException(c);
        }
    }

    private void flushPending() {
        if (!hasPending) return;
        hasPending = false;
        if (!frames.isEmpty()) {
            pending.stackId(out.stack(frames));
            frames.clear();
        }
        pending = out.exchange(pending);
    }

    protected void malformed(String why) {
        String msg = inputName + ":" + lineNo + ": " + why;
        if (opts.strict()) throw InputError.atLine(inputName, lineNo, why);
        out.unparsed(msg);
        frames.clear();
    }

    /** Parses {@code key=value key=value …}; a token without '=' continues the previous value. */
    private String fields(byte[] b, int p, int end, TraceEvent e) {
        norm.begin();
        int prev = -1;
        while (p < end) {
            while (p < end && b[p] == ' ') p++;
            if (p >= end) break;
            String key;
            int kind, code, eq;
            // An event's fields come in the same order on every line: the name that followed the previous one last
            // time (or began the last line) is tried first. A stored name holds no '=' or space, so when its bytes
            // and then '=' are here, the search below would have ended at that '=' and found this very slot.
            int ki = prev == -1 ? keyFirst : prev >= 0 ? keyNext[prev] : -1, klen;
            if (ki >= 0 && (klen = keyLens[ki]) < end - p && b[p + klen] == '=' && StringCache.equalPadded(keyBytes[ki], b, p, klen)) {
                eq = p + klen;
                key = keyStrings[ki];
                kind = keyKinds[ki];
                code = keyCodes[ki];
            } else {
                // The key ends at the token's first '='; a token without one ends at a space first.
                eq = equalsOrSpace(b, p, end);
                if (eq == end || b[eq] == ' ') {
                    // Free text after the fields (some events print a message): keep it.
                    norm.textField(e, "text", strings.get(b, p, end - p));
                    break;
                }
                klen = eq - p;
                // Field names are few: a table indexed by first byte, last byte and length finds them without
                // hashing the bytes, and remembers how each one's value is parsed. Names that share a slot take
                // the next free one (name and node do: the one that came second went the slow way on every line).
                ki = ((b[p] & 0xff) * 31 ^ klen * 131 ^ (b[eq - 1] & 0xff) * 7) & (KEY_SLOTS - 1);
                byte[] kb = keyBytes[ki];
                for (int probe = 1; kb != null && !(keyLens[ki] == klen && StringCache.equalPadded(kb, b, p, klen)) && probe < KEY_PROBES; probe++) {
                    ki = (ki + 1) & (KEY_SLOTS - 1);
                    kb = keyBytes[ki];
                }
                if (kb != null && keyLens[ki] == klen && StringCache.equalPadded(kb, b, p, klen)) {
                    key = keyStrings[ki];
                    kind = keyKinds[ki];
                    code = keyCodes[ki];
                } else {
                    key = keys.get(b, p, klen);
                    kind = numericKind(key);
                    code = EventNormalizer.fieldCode(key);
                    if (kb == null) {
                        keyBytes[ki] = StringCache.padded(b, p, klen);
                        keyLens[ki] = klen;
                        keyStrings[ki] = key;
                        keyKinds[ki] = kind;
                        keyCodes[ki] = code;
                    } else {
                        ki = -2;
                    }
                }
                if (ki >= 0 && prev != -2) {
                    if (prev == -1) keyFirst = ki; else keyNext[prev] = ki;
                }
            }
            // -1: the line's first name; -2: a name with no slot (the table was full around it), which predicts nothing.
            prev = ki;
            // The value runs to the next space. Numbers are parsed in the same pass that finds it (one pass over
            // the bytes instead of two: the scan that cut the token at its space, then the parse).
            int v = eq + 1, q;
            long num = BAD;
            if (kind == HEX) {
                // With or without 0x: pfn may also be plain decimal on old kernels (then it has no 0x, and the String
                // path handles it); ftrace's hashed ptr has no 0x.
                boolean prefixed = v + 1 < end && b[v] == '0' && (b[v + 1] == 'x' || b[v + 1] == 'X');
                int d0 = prefixed ? v + 2 : v, i = d0, bad = 0;
                long x = 0;
                for (; i < end; i++) {
                    byte c = b[i];
                    if (c == ' ') break;
                    int d = HEX_DIGIT[c & 0xff];
                    bad |= d;
                    x = (x << 4) | (d & 0xf);
                }
                q = i;
                if (bad >= 0 && q > d0 && q - d0 <= 16 && (prefixed || !pfnKey(b, v))) num = x;
            } else if (kind == DEC) {
                boolean neg = v < end && b[v] == '-';
                int d0 = neg ? v + 1 : v, i = d0, bad = 0;
                long x = 0;
                for (; i < end; i++) {
                    byte c = b[i];
                    if (c == ' ') break;
                    int d = c - '0';
                    bad |= d | (9 - d);
                    x = x * 10 + d;
                }
                q = i;
                if (bad >= 0 && q > d0 && q - d0 <= 18) num = neg ? -x : x;
            } else {
                q = spaceOrEnd(b, v, end);
                if (kind == BOOL) num = parseBool(b, v, q);
            }
            if (num != BAD) {
                norm.numField(e, code, key, num);
            } else {
                String val = strings.get(b, eq + 1, q - eq - 1);
                if (!norm.textField(e, code, key, val)) return "field " + key + "=" + val + " is not a number";
            }
            p = q;
        }
        norm.end(e);
        if (EventNames.isSlabAlloc(e.event) && !e.has(TraceEvent.F_PTR)) return "event " + e.event + " without ptr";
        return null;
    }

    private static final int KEY_SLOTS = 256, KEY_PROBES = 8;
    /** Field names, zero-padded to whole words ({@link StringCache#equalPadded}), and their lengths. */
    private final byte[][] keyBytes = new byte[KEY_SLOTS][];
    private final int[] keyLens = new int[KEY_SLOTS];
    private final String[] keyStrings = new String[KEY_SLOTS];
    private final int[] keyKinds = new int[KEY_SLOTS];
    private final int[] keyCodes = new int[KEY_SLOTS];
    /** The slot of the name that followed each slot's name last time, and of the name that began the last line; -1 for none. */
    private final int[] keyNext = filled(KEY_SLOTS, -1);
    private int keyFirst = -1;

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static final int DEC = 1, HEX = 2, BOOL = 3;
    private static final int[] HEX_DIGIT = new int[256];

    static {
        java.util.Arrays.fill(HEX_DIGIT, -1);
        for (int c = '0'; c <= '9'; c++) HEX_DIGIT[c] = c - '0';
        for (int c = 'a'; c <= 'f'; c++) HEX_DIGIT[c] = c - 'a' + 10;
        for (int c = 'A'; c <= 'F'; c++) HEX_DIGIT[c] = c - 'A' + 10;
    }
    private static final long BAD = Long.MIN_VALUE;

    /** Fields whose value is parsed straight from the bytes, without a String. */
    private static int numericKind(String key) {
        return switch (key) {
            case "ptr" -> HEX;
            case "bytes_req", "bytes_alloc", "node", "order", "migratetype", "alloc_order", "alloc_migratetype" -> DEC;
            case "pfn", "page" -> HEX;
            case "accounted" -> BOOL;
            default -> 0;
        };
    }

    /**
     * accounted=true|false (or 1|0) without interning the value: 1 or 0 as the text path would decide;
     * anything else is BAD and goes the text path.
     */
    private static long parseBool(byte[] b, int p, int q) {
        int n = q - p;
        if (n == 4 && b[p] == 't' && b[p + 1] == 'r' && b[p + 2] == 'u' && b[p + 3] == 'e') return 1;
        if (n == 5 && b[p] == 'f' && b[p + 1] == 'a' && b[p + 2] == 'l' && b[p + 3] == 's' && b[p + 4] == 'e') return 0;
        if (n == 1 && (b[p] == '1' || b[p] == '0')) return b[p] - '0';
        return BAD;
    }

    /** The value at {@code v} follows "pfn=": without 0x it is decimal (old kernels); ptr without 0x is ftrace's hashed hex. */
    private static boolean pfnKey(byte[] b, int v) {
        return v >= 4 && b[v - 1] == '=' && b[v - 2] == 'n' && b[v - 3] == 'f' && b[v - 4] == 'p';
    }

    /** Parses an unsigned decimal integer in [p, q); -1 when not a number. */
    protected static long parseLong(byte[] b, int p, int q) {
        if (p >= q || q - p > 18) return -1;
        long v = 0;
        for (int i = p; i < q; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return -1;
            v = v * 10 + d;
        }
        return v;
    }

    /** Parses {@code seconds.fraction} into ns; -1 when malformed. */
    protected static long parseTimestamp(byte[] b, int p, int q) {
        int dot = -1;
        for (int i = p; i < q; i++) if (b[i] == '.') { dot = i; break; }
        if (dot < 0) return -1;
        long sec = parseLong(b, p, dot);
        int fl = q - dot - 1;
        if (sec < 0 || fl <= 0 || fl > 9) return -1;
        long frac = parseLong(b, dot + 1, q);
        if (frac < 0) return -1;
        for (int i = fl; i < 9; i++) frac *= 10;
        return sec * 1_000_000_000L + frac;
    }

    /**
     * Finds the {@code [NNN]} CPU field: the first '[' preceded by a space and followed by digits and ']'.
     * Returns the index of '[' or -1.
     */
    protected static int findCpuBracket(byte[] b, int p, int end) {
        for (int i = p + 1; i < end; i++) {
            if (b[i] != '[' || b[i - 1] != ' ') continue;
            int j = i + 1;
            while (j < end && b[j] >= '0' && b[j] <= '9') j++;
            if (j > i + 1 && j < end && b[j] == ']') return i;
        }
        return -1;
    }

    /** The canonical event name for the raw name in [p, q). */
    protected String eventName(byte[] b, int p, int q) {
        String raw = strings.get(b, p, q - p);
        if (raw == lastRawEvent) return lastEvent;
        String c = canonical.computeIfAbsent(raw, EventNames::canonical);
        lastRawEvent = raw;
        lastEvent = c;
        return c;
    }

    private String lastRawEvent, lastEvent;

    private final java.util.HashMap<String, String> canonical = new java.util.HashMap<>();
}
