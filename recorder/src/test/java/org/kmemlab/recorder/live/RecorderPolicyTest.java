package org.kmemlab.recorder.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceWriter;

/** The recorder's polling period and its compression policies, without tracefs. */
class RecorderPolicyTest {
    @Test
    void pollPeriodFollowsTheBusiestCpusFillRate() {
        TracefsRecorder.PageReader pr = new TracefsRecorder.PageReader(new TracefsRecorder.CpuReader[0], null);
        pr.bufferPages = 2048; // 8 MiB of 4 KiB pages: a quarter is 512 pages
        // Idle: back before a CPU at ~12,500 pages/s (80 us a page) could fill the quarter, 512 * 80 us.
        assertEquals(40_960_000L, pr.pollNs(0, 10_000_000L));
        // 80 events a page until seen otherwise: 512 pages' worth of events in 10 ms fills the quarter in 10 ms.
        assertEquals(10_000_000L, pr.pollNs(512 * 80, 10_000_000L));
        // Pages seen so far hold 40 events each: the same events are twice the pages, so half the time.
        pr.eventsSeen = 4000;
        pr.pagesSeen = 100;
        assertEquals(5_000_000L, pr.pollNs(512 * 80, 10_000_000L));
        // Never busier than 1 ms, never longer than the idle period.
        assertEquals(TracefsRecorder.PageReader.MIN_POLL_NS, pr.pollNs(1_000_000_000, 10_000_000L));
        assertEquals(40_960_000L, pr.pollNs(1, 10_000_000L));
        // A small buffer (the kernel's 1.4 MB default: 352 pages, a quarter 88) is polled sooner when idle.
        pr.bufferPages = 352;
        assertEquals(88 * 80_000L, pr.pollNs(0, 10_000_000L));
        pr.bufferPages = 4;
        assertEquals(TracefsRecorder.PageReader.MIN_POLL_NS, pr.pollNs(0, 10_000_000L));
    }

    @Test
    void goneTasksAreNamedFromSavedCmdlines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("saved_cmdlines");
        Files.writeString(f, "12 bash\n345 kworker/0:1\n1234 a b\n");
        TracefsRecorder.Merger m = new TracefsRecorder.Merger(null, null, null, null);
        m.savedCmdlinesFile = f;
        assertEquals("bash", m.savedComm(12));
        assertEquals("kworker/0:1", m.savedComm(345));
        assertEquals("a b", m.savedComm(1234));
        assertNull(m.savedComm(34)); // a prefix of 345 is not 345
        assertNull(m.savedComm(234)); // nor a suffix of 1234
        assertNull(m.savedComm(1));
    }

    @Test
    void bufferSizeFileReadsWithOrWithoutExpansionNote() {
        assertEquals(8192, TracefsRecorder.leadingNumber("8192\n", 1));
        assertEquals(7, TracefsRecorder.leadingNumber("7 (expanded: 1408)\n", 1));
        assertEquals(1, TracefsRecorder.leadingNumber("X\n", 1));
    }

    @Test
    void compressionPoliciesByNameAndEveryOneReadsBack(@TempDir Path dir) throws Exception {
        assertSame(RecordCompression.FAST, RecordCompression.byName("FAST"));
        assertSame(RecordCompression.NONE, RecordCompression.byName("none"));
        assertNull(RecordCompression.byName("lz4"));
        long[] sizes = new long[RecordCompression.ALL.size()];
        for (int k = 0; k < sizes.length; k++) {
            RecordCompression c = RecordCompression.ALL.get(k);
            Path f = dir.resolve(c.name() + ".arrow");
            try (TraceWriter w = new TraceWriter(f, new LinkedHashMap<>(), c.codec(), c.zstdLevel())) {
                TraceEvent e = new TraceEvent();
                for (int i = 0; i < 100_000; i++) {
                    e.clear();
                    e.ts(1000L * i);
                    e.cpu(i & 1);
                    e.event = (i & 1) == 0 ? "kmalloc" : "kfree";
                    e.ptr(0xffff888000000000L + 64L * (i >> 1));
                    w.accept(e);
                }
            }
            sizes[k] = Files.size(f);
            try (TraceReader r = new TraceReader(f)) {
                long n = 0, ptrSum = 0;
                while (r.next()) {
                    for (int i = 0; i < r.batch().size(); i++) {
                        TraceEvent e = new TraceEvent();
                        r.batch().read(i, e);
                        ptrSum += e.ptr - 0xffff888000000000L;
                        n++;
                    }
                }
                assertEquals(100_000, n, c.name());
                // every pointer twice: 2 * 64 * (0 + 1 + ... + 49,999)
                assertEquals(2L * 64 * (49_999L * 50_000 / 2), ptrSum, c.name());
            }
        }
        // zstd level 1 beats its fast mode on size, and both beat no compression.
        assertEquals(true, sizes[0] < sizes[1] && sizes[1] < sizes[2], java.util.Arrays.toString(sizes));
    }
}
