package org.kmemlab.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/**
 * {@code bench/run.sh record [SECONDS] [ROUNDS]}: the recorder's own CPU against {@code perf record}'s on the
 * same stress workload (issue 8, acceptance 5).
 *
 * <p>For each tool, a workload that makes as many kmem events as it can is started, then the recorder runs
 * system-wide for SECONDS over the same six kmem events, then the workload is stopped. The recorder's CPU is
 * its process tree's user+sys time from getrusage(RUSAGE_CHILDREN) of a wrapping shell ({@code times}),
 * taken after it exits, so it includes start-up, the final write and, for perf, its build-id pass over the
 * file. It is not the workload's: the kernel copies each event into the ring buffer (perf's or tracefs') in
 * the context of the traced task, for both tools alike. Events recorded and lost come from each tool's own
 * file, read by kmemlab's readers (perf.data LOST / LOST_SAMPLES records; the trace's per-CPU lost counts,
 * which kmemlab takes from page headers and the per-CPU stats). With ROUNDS &gt; 1 the tools alternate and
 * each tool's round with the least CPU per event is reported (the run least disturbed by other load).
 *
 * <p>The workload is {@code perf bench sched messaging} in a loop (sockets: every message is a kmalloc'd
 * skb and its frees), which needs nothing but perf; {@code KMEMLAB_BENCH_WORKLOAD} replaces it with any
 * shell command. It runs at nice 19 under both tools. Needs root, perf and tracefs; prints why and exits 2
 * otherwise.
 */
public final class RecordBench {
    static final List<String> EVENTS = List.of("kmem:kmalloc", "kmem:kfree", "kmem:kmem_cache_alloc", "kmem:kmem_cache_free",
            "kmem:mm_page_alloc", "kmem:mm_page_free");
    static final String DEFAULT_WORKLOAD = "while :; do perf bench sched messaging -g 2 -l 20000 >/dev/null 2>&1; done";

    /** One recorder run. */
    record Run(String tool, double seconds, long events, long lost, double cpuS, double userS, double sysS, long fileBytes,
               String note) {
        double rate() { return events / seconds; }
        /** Per event recorded: a lost event costs a recorder nothing (the kernel never handed it over). */
        double cpuPerEventUs() { return events == 0 ? Double.NaN : cpuS * 1e6 / events; }
    }

    public static void run(double seconds, int rounds, Path home) throws Exception {
        Path jar = home.resolve("cli/target/kmemlab.jar");
        String why = missing(jar);
        if (why != null) {
            System.err.println("bench record: " + why);
            System.exit(2);
        }
        String workload = System.getenv().getOrDefault("KMEMLAB_BENCH_WORKLOAD", DEFAULT_WORKLOAD);
        Path tmp = Files.createTempDirectory("kmemlab-record-bench");
        System.out.printf("workload: %s%nrecording %.0f s system-wide, events %s, %d round(s); load before: %s%n", workload, seconds,
                String.join(",", EVENTS), rounds, loadavg());
        Run bestPerf = null, bestKm = null;
        try {
            for (int i = 0; i < rounds; i++) {
                Run p = perf(tmp, seconds, workload, home);
                print(p);
                Run k = kmemlab(tmp, seconds, workload, home);
                print(k);
                if (bestPerf == null || p.cpuPerEventUs() < bestPerf.cpuPerEventUs()) bestPerf = p;
                if (bestKm == null || k.cpuPerEventUs() < bestKm.cpuPerEventUs()) bestKm = k;
            }
        } finally {
            try (var s = Files.list(tmp)) {
                for (Path f : s.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(tmp);
        }
        System.out.println();
        System.out.println("best round of each (least CPU per event); load after: " + loadavg());
        print(bestPerf);
        print(bestKm);
        System.out.printf("kmemlab/perf: CPU %.2fx, CPU per recorded event %.2fx, events/s %.2fx%n",
                bestKm.cpuS() / bestPerf.cpuS(), bestKm.cpuPerEventUs() / bestPerf.cpuPerEventUs(), bestKm.rate() / bestPerf.rate());
    }

    static void print(Run r) {
        System.out.printf("%-8s %,11d events %,10.0f events/s  lost %,9d  CPU %6.2f s (user %.2f, sys %.2f) = %.2f us/event  file %,d KB%s%n",
                r.tool(), r.events(), r.rate(), r.lost(), r.cpuS(), r.userS(), r.sysS(), r.cpuPerEventUs(), r.fileBytes() / 1024,
                r.note().isEmpty() ? "" : "  " + r.note());
    }

    static String missing(Path jar) {
        if (!"root".equals(System.getProperty("user.name"))) return "needs root (both recorders trace system-wide)";
        if (!Files.isRegularFile(jar)) return "no " + jar + " (bench/run.sh record builds it)";
        if (!Files.isDirectory(Path.of("/sys/kernel/tracing/events/kmem")) && !Files.isDirectory(Path.of("/sys/kernel/debug/tracing/events/kmem"))) {
            return "no tracefs with kmem events at /sys/kernel/tracing";
        }
        try {
            if (new ProcessBuilder("perf", "--version").redirectErrorStream(true).start().waitFor() != 0) return "perf does not run";
        } catch (IOException | InterruptedException e) {
            return "no perf on PATH";
        }
        return null;
    }

    static Run perf(Path tmp, double seconds, String workload, Path home) throws Exception {
        Path data = tmp.resolve("perf.data");
        Files.deleteIfExists(data);
        List<String> cmd = new ArrayList<>(List.of("perf", "record", "-q", "-a"));
        for (String e : EVENTS) cmd.addAll(List.of("-e", e));
        // The same ring-buffer size per CPU as kmemlab's default (8 MiB), so neither loses events for want of buffer.
        cmd.addAll(List.of("-m", "8M", "-o", data.toString(), "--", "sleep", fmt(seconds)));
        Timed t = underWorkload(workload, cmd, tmp);
        // perf.data through kmemlab's own reader: samples become events, LOST and LOST_SAMPLES records lost counts.
        Path arrow = tmp.resolve("perf.arrow");
        Files.deleteIfExists(arrow);
        Timed imp = timed(kmemlabCmd(home, "import", data.toString(), "-o", arrow.toString()), tmp);
        if (imp.status != 0) throw new IOException("kmemlab import of perf.data failed: " + imp.stderr);
        TraceInfo info = info(arrow);
        long lost = info.lostByCpu.values().stream().mapToLong(Long::longValue).sum();
        long size = Files.size(data);
        Files.delete(arrow);
        Files.delete(data);
        return new Run("perf", seconds, info.metaLong("events", 0), lost, t.cpu(), t.user, t.sys, size, "");
    }

    static TraceInfo info(Path trace) throws IOException {
        TraceInfo info = TraceReader.readInfo(trace);
        if (!info.complete()) throw new IOException(trace + " is not a complete trace: " + info.truncationReason());
        return info;
    }

    static Run kmemlab(Path tmp, double seconds, String workload, Path home) throws Exception {
        Path out = tmp.resolve("kmemlab.arrow");
        Files.deleteIfExists(out);
        Timed t = underWorkload(workload, kmemlabCmd(home, "record", "-a", "-e", String.join(",", EVENTS), "--duration", fmt(seconds),
                "-o", out.toString()), tmp);
        if (t.status != 0) throw new IOException("kmemlab record failed: " + t.stderr);
        TraceInfo info = info(out);
        long lost = info.lostByCpu.values().stream().mapToLong(Long::longValue).sum();
        long size = Files.size(out);
        String inLoop = String.format("(%.2f s of it while recording)", info.metaLong("recorder_cpu_ns", 0) / 1e9);
        Files.delete(out);
        return new Run("kmemlab", seconds, info.metaLong("events", 0), lost, t.cpu(), t.user, t.sys, size, inLoop);
    }

    /** Through the launcher, as users run it (it picks the JVM flags for record); the bench built the jar first. */
    static List<String> kmemlabCmd(Path home, String... args) {
        List<String> c = new ArrayList<>(List.of(home.resolve("kmemlab").toString()));
        c.addAll(List.of(args));
        return c;
    }

    /** Starts the workload in its own process group, lets it run up, runs {@code cmd} to its end, stops the group. */
    static Timed underWorkload(String workload, List<String> cmd, Path tmp) throws Exception {
        // At nice 19, so that the recorders (nice 0) get the CPU they ask for: lost events then measure a
        // recorder's speed, not how many of the workload's 80 tasks it queued behind.
        Process w = new ProcessBuilder("setsid", "nice", "-n", "19", "bash", "-c", workload).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Thread.sleep(1000);
            return timed(cmd, tmp);
        } finally {
            // setsid made the workload's shell a process-group leader: stop the whole group (its children too).
            new ProcessBuilder("kill", "-TERM", "--", "-" + w.pid()).start().waitFor();
            w.waitFor();
            Thread.sleep(1000);
        }
    }

    record Timed(int status, double user, double sys, String stderr) {
        double cpu() { return user + sys; }
    }

    private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s");

    /** Runs {@code cmd} under a shell whose {@code times} gives its children's user and system time (getrusage). */
    static Timed timed(List<String> cmd, Path tmp) throws Exception {
        Path err = tmp.resolve("stderr.txt"), times = tmp.resolve("times.txt");
        List<String> c = new ArrayList<>(List.of("bash", "-c", "\"$@\" 2>\"$T_ERR\"; rc=$?; times >\"$T_TIMES\"; exit $rc", "_"));
        c.addAll(cmd);
        ProcessBuilder pb = new ProcessBuilder(c).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("T_ERR", err.toString());
        pb.environment().put("T_TIMES", times.toString());
        int rc = pb.start().waitFor();
        // times prints the shell's own user/sys, then its children's.
        List<String> lines = Files.readAllLines(times);
        Matcher m = TIMES.matcher(lines.size() > 1 ? lines.get(1) : "");
        if (!m.find()) throw new IOException("no times output from " + cmd + ": " + lines);
        double user = Integer.parseInt(m.group(1)) * 60 + Double.parseDouble(m.group(2));
        double sys = Integer.parseInt(m.group(3)) * 60 + Double.parseDouble(m.group(4));
        return new Timed(rc, user, sys, Files.readString(err, StandardCharsets.UTF_8).strip());
    }

    static String fmt(double s) { return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s); }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
