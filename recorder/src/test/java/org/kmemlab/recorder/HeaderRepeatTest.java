package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The perf script header (command, pid/tid, [cpu]) of a line that repeats the previous header's bytes is taken
 * from that header instead of being parsed again. Lines here change one thing at a time against the line
 * before (the command's last byte, its length, pid against pid/tid, the CPU, a bracket inside the command) and
 * each event must carry the values its line was printed from.
 */
class HeaderRepeatTest {
    @TempDir Path dir;

    @AfterEach
    void restore() { TextImporter.twoThreads = true; }

    static final String[] COMMS = {"tar", "taz", "tar ", "tarr", "kworker/0:1 with spaces", "kworker/0:1 with spacez",
        "x".repeat(300), "x".repeat(299) + "y", "a [b] c", "a[12]", "perf", "12345", ""};

    record Line(String comm, int pid, int tid, boolean slash, int cpu, long ts) {}

    @Test
    void everyLineKeepsItsOwnCommandPidTidAndCpu() throws Exception {
        Random r = new Random(11);
        List<Line> lines = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        Line prev = new Line("tar", 100, 100, false, 0, 0);
        for (int i = 0; i < 3000; i++) {
            String comm = prev.comm;
            int pid = prev.pid, tid = prev.tid, cpu = prev.cpu;
            boolean slash = prev.slash;
            switch (r.nextInt(8)) {
                case 0 -> comm = COMMS[r.nextInt(COMMS.length)];
                case 1 -> pid = 100 + r.nextInt(3);
                case 2 -> tid = 200 + r.nextInt(3);
                case 3 -> slash = !slash;
                case 4 -> cpu = r.nextInt(12);
                default -> { }
            }
            if (!slash) tid = pid;
            Line l = new Line(comm, pid, tid, slash, cpu, 8700_000_000_000L + 1000L * i);
            lines.add(l);
            String task = slash ? pid + "/" + tid : Integer.toString(pid);
            sb.append(String.format("%16s %6s [%03d] %d.%06d: %24s call_site=fn+0x1a ptr=0x%x bytes_req=8 bytes_alloc=8"
                    + " gfp_flags=GFP_KERNEL node=-1 accounted=false\n", comm, task, cpu, l.ts / 1_000_000_000L,
                    l.ts / 1000 % 1_000_000, "kmem:kmalloc:", 0x1000 + 64 * i));
            prev = l;
        }
        for (boolean two : new boolean[] {false, true}) {
            TextImporter.twoThreads = two;
            Path out = ImportSupport.importPerfScriptText(sb.toString(), dir, ImportOptions.defaults());
            List<String> got = new ArrayList<>();
            ImportSupport.read(out, e -> got.add(e.comm + "|" + e.pid + "|" + e.tid + "|" + e.cpu + "|" + e.tsNs));
            assertEquals(lines.size(), got.size());
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
                // perf pads the command to 16 columns on the left; the importer keeps it without the padding.
                String comm = l.comm.strip().isEmpty() ? "" : l.comm.stripTrailing();
                assertEquals(comm + "|" + l.pid + "|" + l.tid + "|" + l.cpu + "|" + l.ts, got.get(i), "line " + (i + 1) + " two threads " + two);
            }
        }
    }
}
