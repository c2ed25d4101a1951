package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

/**
 * A recorded trace cut at 200 random offsets (a crash, a full disk, a killed recorder): {@code info} either
 * reports the readable prefix with how many events it recovered, or gives the one-line input error; never
 * a crash. The expectation comes from the writer: the file size after each flushed batch.
 */
class TruncatedTraceTest {
    @TempDir Path tmp;

    @Test
    void infoRecoversTheWholeBatchesBeforeEveryCut() throws Exception {
        int batches = 4;
        Path p = tmp.resolve("rec.arrow");
        List<Long> batchEnds = new ArrayList<>();
        Random r = new Random(9);
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_SOURCE_FORMAT, "tracefs"))) {
            for (int b = 0; b < batches; b++) {
                for (int i = 0; i < TraceWriter.BATCH_ROWS; i++) {
                    TraceEvent e = new TraceEvent().ts(b * 1_000_000L + i).cpu(r.nextInt(4)).pid(100 + r.nextInt(50))
                            .ptr(0xffff888000000000L + 64L * r.nextInt(1 << 20)).bytesReq(r.nextInt(512)).bytesAlloc(512);
                    e.event = r.nextBoolean() ? EventNames.KMALLOC : EventNames.KFREE;
                    e.comm = "task-" + r.nextInt(40);
                    e.callSiteFn = "fn_" + r.nextInt(500);
                    w.accept(e);
                }
                w.flush();
                batchEnds.add(Files.size(p));
            }
        }
        long size = Files.size(p);
        long[] cuts = new long[200];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i < 5 ? i * 7L : (long) (r.nextDouble() * size);
        java.util.Arrays.sort(cuts);
        Pattern recovered = Pattern.compile("recovered: +([\\d,]+) events in ([\\d,]+) whole batches");
        int errors = 0, prefixes = 0;
        // Cut the same file shorter and shorter: no copy per cut.
        for (int i = cuts.length - 1; i >= 0; i--) {
            long cut = cuts[i];
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) { ch.truncate(cut); }
            CliTest.Run run = CliTest.run("info", p.toString());
            long whole = batchEnds.stream().filter(end -> end <= cut).count();
            if (run.status() == 2) {
                errors++;
                assertEquals(0, whole, "an input error although " + whole + " batches were whole at cut " + cut + ": " + run.err());
                assertEquals(1, run.err().strip().lines().count(), run.err());
                assertTrue(run.err().contains(p + ": at byte offset "), run.err());
                continue;
            }
            assertEquals(0, run.status(), "cut " + cut + ": " + run.err());
            Matcher m = recovered.matcher(run.out());
            assertTrue(m.find(), "cut " + cut + ": " + run.out());
            assertTrue(run.out().contains("INCOMPLETE"), run.out());
            assertEquals(whole * TraceWriter.BATCH_ROWS, Long.parseLong(m.group(1).replace(",", "")), "events recovered at cut " + cut);
            prefixes++;
        }
        assertTrue(errors > 0 && prefixes > 100, errors + " input errors, " + prefixes + " readable prefixes");
    }
}
