package org.kmemlab.recorder;

/**
 * Tells perf script text from ftrace text by the first event line: in perf script the token before
 * {@code [cpu]} is the pid ({@code 5422} or {@code 5422/5423}); in ftrace it is {@code comm-pid}.
 */
enum LineShape {
    PERF_SCRIPT, FTRACE, OTHER;

    static LineShape firstEventLine(byte[] b, int len) {
        int start = 0;
        boolean ftraceHeader = false;
        for (int i = 0; i <= len; i++) {
            if (i < len && b[i] != '\n') continue;
            int p = start;
            start = i + 1;
            while (p < i && (b[p] == ' ' || b[p] == '\t')) p++;
            if (p >= i) continue;
            if (b[p] == '#') {
                if (i - p > 8 && new String(b, p, Math.min(i - p, 20), java.nio.charset.StandardCharsets.US_ASCII).startsWith("# tracer")) ftraceHeader = true;
                continue;
            }
            if (i == len && len >= 4096) return OTHER; // a partial last line proves nothing
            for (int k = p; k < i; k++) if (b[k] == 0) return OTHER;
            int br = TextImporter.findCpuBracket(b, p, i);
            if (br < 0) {
                // trace-cmd report starts with "cpus=N" / "version = 6" lines.
                String s = new String(b, p, Math.min(i - p, 12), java.nio.charset.StandardCharsets.US_ASCII);
                if (s.startsWith("cpus=") || s.startsWith("version") || s.startsWith("CPU")) { ftraceHeader = true; continue; }
                return OTHER;
            }
            int q = br - 1;
            while (q > p && b[q] == ' ') q--;
            int tokEnd = q + 1;
            while (q >= p && b[q] != ' ') q--;
            int tokStart = q + 1;
            boolean digits = tokEnd > tokStart;
            int dash = -1;
            for (int k = tokStart; k < tokEnd; k++) {
                byte c = b[k];
                if (c == '-') dash = k;
                if (!(c >= '0' && c <= '9') && c != '/') digits = false;
            }
            if (digits && !ftraceHeader) return PERF_SCRIPT;
            if (dash >= 0 || ftraceHeader) return FTRACE;
            return OTHER;
        }
        return ftraceHeader ? FTRACE : OTHER;
    }
}
