package org.kmemlab.recorder.live;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.kmemlab.trace.TraceWriter;

/**
 * The machine state recorded beside the events: the /proc files the replayer and report use to seed
 * and check their model (slabinfo, buddyinfo, pagetypeinfo, zoneinfo, meminfo, vmstat), the CPU count,
 * the kernel release, per-cache attributes from /sys/kernel/slab (SLUB's sysfs, mm/slub.c) where
 * readable (not the counting attributes such as {@code objects}, which walk every slab), and the kernel threads
 * running (file {@code kthreads}: the replayer never throttles them in direct reclaim, and a trace's events do
 * not say which tasks they are). Unreadable files are skipped: a snapshot is best effort, the events are what
 * matters.
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
        String k = kernelThreads(Path.of("/proc"));
        if (!k.isEmpty()) w.snapshot("kthreads", k);
    }

    /** {@code PF_KTHREAD} of include/linux/sched.h, in the flags field of /proc/<pid>/stat. */
    static final long PF_KTHREAD = 0x00200000L;

    /**
     * "pid comm" per line for every task under {@code proc} whose stat flags have PF_KTHREAD, in pid order. The
     * comm sits in parentheses and may hold spaces and parentheses itself, so the fields are counted from the
     * last ')'; the flags are the ninth field of the line, the sixth after it.
     */
    static String kernelThreads(Path proc) {
        java.util.TreeMap<Long, String> found = new java.util.TreeMap<>();
        try (Stream<Path> pids = Files.list(proc)) {
            pids.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                String stat = Tracefs.readOrNull(p.resolve("stat"));
                if (stat == null) return;
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                if (open < 0 || close < open) return;
                String[] f = stat.substring(close + 1).trim().split(" ");
                if (f.length < 7) return;
                try {
                    if ((Long.parseLong(f[6]) & PF_KTHREAD) != 0) {
                        found.put(Long.parseLong(p.getFileName().toString()), stat.substring(open + 1, close));
                    }
                } catch (NumberFormatException e) {
                    // not a stat line this code understands: leave the task out
                }
            });
        } catch (IOException | RuntimeException e) {
            // best effort
        }
        StringBuilder sb = new StringBuilder();
        found.forEach((pid, comm) -> sb.append(pid).append(' ').append(comm).append('\n'));
        return sb.toString();
    }
}
