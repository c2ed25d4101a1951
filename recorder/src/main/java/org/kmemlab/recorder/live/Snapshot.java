package org.kmemlab.recorder.live;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.kmemlab.trace.TraceWriter;

/**
 * The machine state recorded beside the events: the /proc files the replayer and report use to seed
 * and check their model (slabinfo, buddyinfo, pagetypeinfo, zoneinfo, meminfo, vmstat), the CPU count,
 * the kernel release, and per-cache attributes from /sys/kernel/slab (SLUB's sysfs, mm/slub.c) where
 * readable (not the counting attributes such as {@code objects}, which walk every slab). Unreadable files are skipped: a snapshot is best effort, the events are what matters.
 */
public final class Snapshot {
    private Snapshot() {}

    static final String[] PROC = {"slabinfo", "buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat"};
    static final String[] SLAB_ATTRS = {"object_size", "slab_size", "objs_per_slab", "order", "align"};

    public static void take(TraceWriter w, int nrCpus, String release) {
        for (String f : PROC) {
            String s = Tracefs.readOrNull(Path.of("/proc", f));
            if (s != null) w.snapshot(f, s);
        }
        w.snapshot("nr_cpus", Integer.toString(nrCpus));
        w.snapshot("kernel_release", release);
        Path slab = Path.of("/sys/kernel/slab");
        if (Files.isDirectory(slab)) {
            StringBuilder sb = new StringBuilder();
            try (Stream<Path> caches = Files.list(slab)) {
                caches.filter(p -> !Files.isSymbolicLink(p)).sorted().forEach(c -> {
                    for (String a : SLAB_ATTRS) {
                        String v = Tracefs.readOrNull(c.resolve(a));
                        if (v != null) sb.append(c.getFileName()).append(' ').append(a).append(' ').append(v.strip()).append('\n');
                    }
                });
            } catch (IOException | RuntimeException e) {
                // best effort
            }
            if (sb.length() > 0) w.snapshot("sys_kernel_slab", sb.toString());
        }
    }
}
