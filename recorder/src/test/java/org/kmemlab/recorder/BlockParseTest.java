package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceInfo;

/**
 * perf script text is parsed on two threads in blocks cut at line boundaries; the result must not depend on
 * where the cuts fall: call chains spanning two blocks, malformed lines (their line numbers), CRLF, a last
 * line without newline, lines longer than a block.
 */
class BlockParseTest {
    @TempDir Path dir;
    private final int saved = TextImporter.blockSize;

    @AfterEach
    void restore() {
        TextImporter.blockSize = saved;
        TextImporter.twoThreads = true;
    }

    static String text() {
        StringBuilder sb = new StringBuilder();
        String longComm = "x".repeat(700);
        for (int i = 0; i < 400; i++) {
            String comm = i % 37 == 0 ? longComm : (i % 3 == 0 ? "kworker/0:1 with spaces" : "tar");
            sb.append(String.format("%16s %5d/%d [%03d] %d.%06d: %28s call_site=fn%d+0x1a ptr=0xffff8881%08x"
                    + " bytes_req=%d bytes_alloc=%d gfp_flags=GFP_KERNEL node=-1 accounted=false%s",
                    comm, 100 + i % 5, 200 + i % 7, i % 2, 8700 + i, i * 13 % 1_000_000, "kmem:kmalloc:", i % 11,
                    i, 8 * (i % 9 + 1), 16 * (i % 9 + 1), i % 10 == 0 ? "\r\n" : "\n"));
            if (i % 4 == 1) {
                for (int f = 0; f < 1 + i % 5; f++) sb.append("\tffffffff8163").append(f).append(" frame").append(i % 7)
                        .append('_').append(f).append("+0x20d ([kernel.kallsyms])\n");
                sb.append('\n');
            }
            if (i % 29 == 5) sb.append("   garbage line without a cpu bracket ").append(i).append('\n');
            if (i % 31 == 7) sb.append("\tframe after a malformed line\n");
            if (i % 53 == 0) sb.append("# a comment\n");
        }
        sb.append("tar 1/1 [000] 9999.000001: kmem:kfree: call_site=last+0x1 ptr=0x10"); // no final newline
        return sb.toString();
    }

    record Result(List<String> rows, Map<Integer, List<String>> stacks, List<String> malformed, String unparsed) {}

    /** block 0: the one-pass loop. */
    Result importWith(int block, String text, boolean strict) throws Exception {
        TextImporter.twoThreads = block > 0;
        if (block > 0) TextImporter.blockSize = block;
        Path out = ImportSupport.importPerfScriptText(text, dir, ImportOptions.defaults().withStrict(strict));
        List<String> rows = new ArrayList<>();
        TraceInfo info = ImportSupport.read(out, e -> rows.add(e + " stack=" + (e.has(org.kmemlab.trace.TraceEvent.F_STACK_ID) ? e.stackId : -1)));
        return new Result(rows, info.stacks, info.malformedSamples, info.meta.get("unparsed_lines"));
    }

    @Test
    void sameResultWhateverTheBlockSize() throws Exception {
        String t = text();
        Result whole = importWith(0, t, false);
        assertTrue(whole.rows().size() > 390, "rows " + whole.rows().size());
        assertTrue(!whole.stacks().isEmpty());
        assertTrue(whole.malformed().get(0).startsWith("t.txt:"), whole.malformed().toString());
        for (int block : new int[] {64, 97, 500, 1000, 4096, 65_536, 1 << 24}) {
            Result r = importWith(block, t, false);
            assertEquals(whole, r, "block size " + block);
        }
    }

    @Test
    void strictStopsAtTheSameLine() throws Exception {
        String t = text();
        InputError a = assertThrows(InputError.class, () -> importWith(0, t, true));
        InputError b = assertThrows(InputError.class, () -> importWith(97, t, true));
        assertEquals(a.getMessage(), b.getMessage());
    }
}
