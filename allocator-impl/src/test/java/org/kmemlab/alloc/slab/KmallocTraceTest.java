package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.Gfp;

/**
 * Acceptance 1 of issue 4: for every {@code kmem:kmalloc} event of the real traces in
 * ../shared/traces, the model's bytes_alloc for (bytes_req, gfp) equals the trace's bytes_alloc.
 */
class KmallocTraceTest {
    private static final Pattern KMALLOC = Pattern.compile(
            "\\bkmalloc: .*?bytes_req=(\\d+) bytes_alloc=(\\d+) gfp_flags=(\\S+)");

    /** Enough of show_gfp_flags() to hand the model the semantic bits (the sizes do not depend on them). */
    private static final Map<String, Long> NAMES = Map.ofEntries(
            Map.entry("GFP_KERNEL", Gfp.GFP_KERNEL), Map.entry("GFP_KERNEL_ACCOUNT", Gfp.GFP_KERNEL_ACCOUNT),
            Map.entry("GFP_NOFS", Gfp.GFP_NOFS), Map.entry("GFP_NOIO", Gfp.GFP_NOIO),
            Map.entry("GFP_ATOMIC", Gfp.GFP_ATOMIC), Map.entry("GFP_NOWAIT", Gfp.GFP_NOWAIT),
            Map.entry("GFP_USER", Gfp.GFP_USER), Map.entry("__GFP_ZERO", Gfp.ZERO), Map.entry("__GFP_NOWARN", Gfp.NOWARN),
            Map.entry("__GFP_NORETRY", Gfp.NORETRY), Map.entry("__GFP_RETRY_MAYFAIL", Gfp.RETRY_MAYFAIL),
            Map.entry("__GFP_NOFAIL", Gfp.NOFAIL), Map.entry("__GFP_COMP", Gfp.COMP), Map.entry("__GFP_ACCOUNT", Gfp.ACCOUNT),
            Map.entry("__GFP_RECLAIMABLE", Gfp.RECLAIMABLE), Map.entry("__GFP_DMA", Gfp.DMA),
            Map.entry("__GFP_HIGH", Gfp.HIGH), Map.entry("__GFP_NOMEMALLOC", Gfp.NOMEMALLOC));

    static long parseGfp(String s) {
        long g = 0;
        for (String part : s.split("\\|")) g |= NAMES.getOrDefault(part, 0L);
        return g;
    }

    @Test
    void bytesAllocMatchesEveryKmallocEventOfTheSharedTraces() throws Exception {
        Path dir = Path.of(System.getProperty("kmemlab.shared", "../shared"), "traces");
        Assumptions.assumeTrue(Files.isDirectory(dir), "no ../shared/traces: skipped");
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.txt.zst")) { ds.forEach(files::add); }
        files.sort(null);
        Assumptions.assumeFalse(files.isEmpty(), "no traces");
        long total = 0, matched = 0;
        Map<String, String> firstMismatch = new TreeMap<>();
        for (Path f : files) {
            long n = 0, m = 0;
            try (InputStream in = new ZstdInputStream(Files.newInputStream(f));
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.indexOf("kmalloc: ") < 0) continue;
                    Matcher mt = KMALLOC.matcher(line);
                    if (!mt.find()) continue;
                    long req = Long.parseLong(mt.group(1));
                    long alloc = Long.parseLong(mt.group(2));
                    n++;
                    if (KmallocCaches.bytesAlloc(req, parseGfp(mt.group(3))) == alloc) m++;
                    else firstMismatch.putIfAbsent(f.getFileName().toString(), line);
                }
            }
            System.out.printf("kmalloc bytes_alloc %-26s %7d/%7d match (%.4f%%)%n", f.getFileName(), m, n,
                    n == 0 ? 100.0 : 100.0 * m / n);
            total += n;
            matched += m;
        }
        System.out.printf("kmalloc bytes_alloc all traces %d/%d match (%.4f%%)%n", matched, total, 100.0 * matched / total);
        assertTrue(total > 0, "no kmalloc events found");
        assertEquals(Map.of(), firstMismatch);
        assertEquals(total, matched);
    }
}
