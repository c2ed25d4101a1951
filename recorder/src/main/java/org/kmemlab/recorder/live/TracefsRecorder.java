package org.kmemlab.recorder.live;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.kmemlab.recorder.ftrace.EventFormat;
import org.kmemlab.recorder.ftrace.Kallsyms;
import org.kmemlab.recorder.ftrace.RawEventDecoder;
import org.kmemlab.recorder.ftrace.RingBuffer;
import org.kmemlab.trace.EventNormalizer;
import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

import com.carrotsearch.hppc.IntIntHashMap;
import com.carrotsearch.hppc.IntObjectHashMap;

/**
 * Records kernel allocation events live from tracefs, in pure Java, into a kmemlab trace.
 *
 * <p>It works in its own tracing instance ({@code instances/kmemlab-<pid>}, see
 * Documentation/trace/ftrace.rst "Instances"), so the main buffer and anyone else's tracing are not
 * touched. It enables the chosen events there, reads each CPU's {@code per_cpu/cpuN/trace_pipe_raw}
 * (whole ring-buffer pages, kernel/trace/trace.c {@code tracing_buffers_read}), and decodes the pages
 * with {@link RingBuffer} (header_page, header_event) and {@link RawEventDecoder} (each event's format
 * file), the same code the trace.dat reader uses. Reads never block: each CPU is read only as far as its
 * {@code stats} file says there are entries. Events of all CPUs are merged into time order with a
 * watermark (the instance clock is {@code mono}, the JVM's System.nanoTime), as perf's ordered events do.
 *
 * <p>Lost events come from the page headers' missed-events flags and, at the end, from each CPU's
 * {@code stats} (overrun, dropped events), whichever is larger. With {@code -g} each event gets the
 * kernel stack of a {@code stacktrace} trigger (kernel/trace/trace_events_trigger.c), which the kernel
 * writes right after the event on the same CPU. Stops on {@link #requestStop()} (Ctrl-C through the
 * shutdown hook), at the duration, or when the command (or the -p process) exits; every exit path disables the events,
 * removes the triggers and removes the instance.
 */
public final class TracefsRecorder {
    public static final List<String> DEFAULT_EVENTS = List.of("kmem", "percpu", "vmscan", "compaction");

    /** What to record. {@code pid} 0 and an empty command mean the whole system. */
    public record Options(List<String> events, int pid, List<String> command, double durationS, boolean stacks,
                          int bufferKb, Path output, PrintStream log, RecordCompression compression) {
        public Options {
            events = events == null || events.isEmpty() ? DEFAULT_EVENTS : List.copyOf(events);
            command = command == null ? List.of() : List.copyOf(command);
            if (compression == null) compression = RecordCompression.DEFAULT;
        }

        public Options(List<String> events, int pid, List<String> command, double durationS, boolean stacks,
                       int bufferKb, Path output, PrintStream log) {
            this(events, pid, command, durationS, stacks, bufferKb, output, log, RecordCompression.DEFAULT);
        }
    }

    /** What was recorded. {@code commandPid}/{@code commandExit} are -1 without a command. */
    public record Result(long events, Map<Integer, Long> lostByCpu, long commandPid, int commandExit, String instance,
                         long recordingNs, long recorderCpuNs) {}

    /** CPU time of this JVM (all threads), for the recorder's own cost while it records. */
    static long processCpuNs() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : -1;
    }

    public static final int DEFAULT_BUFFER_KB = 8192;
    /** After Ctrl-C, how long the decoder may keep working through pages already read. */
    static final long SIGNAL_DRAIN_NS = 10_000_000_000L;
    static final boolean DEBUG = System.getenv("KMEMLAB_DEBUG") != null;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private Path root;
    private Path inst;
    private final List<Path> enabled = new ArrayList<>();
    private final List<Path> triggers = new ArrayList<>();
    private final List<FileChannel> channels = new ArrayList<>();
    private boolean cleaned;

    /** Asks a running {@link #record} to stop, drain and close the file. */
    public void requestStop() { stop.set(true); }

    public Result record(Options o) throws IOException {
        PrintStream log = o.log() == null ? System.err : o.log();
        if (!Tracefs.isRoot()) {
            throw new RecordingError("kmemlab record needs root (it writes to tracefs and reads trace_pipe_raw); run it with sudo");
        }
        root = Tracefs.find(log);
        Path instances = root.resolve("instances");
        if (!Files.isDirectory(instances)) throw new RecordingError("tracefs at " + root + " has no instances directory (kernel older than 3.16?)");
        removeStaleInstances(root, log);
        inst = instances.resolve("kmemlab-" + ProcessHandle.current().pid());
        Thread hook = new Thread(() -> {
            // Ctrl-C or kill: let the recording loop finish the file, then make sure the kernel is clean.
            stop.set(true);
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            cleanup();
        }, "kmemlab-record-cleanup");
        try {
            Files.createDirectory(inst);
        } catch (IOException e) {
            throw new RecordingError("cannot create tracing instance " + inst + ": " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(o, log);
        } finally {
            try {
                cleanup();
            } finally {
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running; it finds the work done
                }
            }
        }
    }

    /**
     * Removes instances left by kmemlab recorders that died without cleaning up (SIGKILL, power loss of
     * the JVM): {@code instances/kmemlab-<pid>} whose process no longer exists. Returns how many.
     */
    public static int removeStaleInstances(Path root, PrintStream log) {
        int n = 0;
        try (Stream<Path> s = Files.list(root.resolve("instances"))) {
            for (Path d : (Iterable<Path>) s::iterator) {
                String name = d.getFileName().toString();
                if (!name.startsWith("kmemlab-")) continue;
                long pid;
                try {
                    pid = Long.parseLong(name.substring(8));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isPresent()) continue;
                tryWrite(d.resolve("tracing_on"), "0");
                tryWrite(d.resolve("events/enable"), "0");
                try {
                    Files.delete(d);
                    n++;
                    if (log != null) log.println("kmemlab: removed tracing instance " + d + " left by a recorder that died");
                } catch (IOException e) {
                    if (log != null) log.println("kmemlab: could not remove stale tracing instance " + d + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            // no instances directory: nothing to clean
        }
        return n;
    }

    /** Disables events, removes triggers, closes the pipes, removes the instance. Idempotent. */
    synchronized void cleanup() {
        if (cleaned || inst == null) return;
        cleaned = true;
        if (!Files.isDirectory(inst)) return;
        tryWrite(inst.resolve("tracing_on"), "0");
        for (Path p : enabled) tryWrite(p, "0");
        tryWrite(inst.resolve("events/enable"), "0");
        for (Path t : triggers) tryWrite(t, "!stacktrace");
        for (FileChannel c : channels) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing is best effort; rmdir below reports what matters
            }
        }
        for (int i = 0; i < 50; i++) {
            try {
                Files.delete(inst);
                if (DEBUG) System.err.println("kmemlab: instance removed " + System.nanoTime() / 1_000_000);
                return;
            } catch (IOException e) {
                // EBUSY while a closed reader is still being released: retry briefly.
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        if (DEBUG) System.err.println("kmemlab: cleanup failed " + System.nanoTime() / 1_000_000);
        System.err.println("kmemlab: could not remove tracing instance " + inst + "; remove it with: rmdir " + inst);
    }

    private static void tryWrite(Path p, String v) {
        try {
            Files.writeString(p, v);
        } catch (IOException | RuntimeException ignored) {
            // best effort during cleanup
        }
    }

    private Result run(Options o, PrintStream log) throws IOException {
        Tracefs.write(inst.resolve("tracing_on"), "0");
        // A bigger default than the kernel's 1.4 MB per CPU: bursts (a tree removal) fill that between reads.
        Tracefs.write(inst.resolve("buffer_size_kb"), Integer.toString(o.bufferKb() > 0 ? o.bufferKb() : DEFAULT_BUFFER_KB));
        Tracefs.write(inst.resolve("trace_clock"), "mono");
        // Formats and enable files of the chosen events.
        List<EventFormat> formats = new ArrayList<>();
        List<Path> eventDirs = new ArrayList<>();
        for (String spec : o.events()) resolve(spec, o.events() == DEFAULT_EVENTS || o.events().equals(DEFAULT_EVENTS), eventDirs, log);
        if (eventDirs.isEmpty()) throw new RecordingError("none of the events " + o.events() + " exist in " + root.resolve("events"));
        for (Path d : eventDirs) formats.add(parseFormat(d));
        EventFormat stackFormat = null;
        if (o.stacks()) {
            stackFormat = parseFormat(root.resolve("events/ftrace/kernel_stack"));
            formats.add(stackFormat);
        }
        String release = Tracefs.read(Path.of("/proc/sys/kernel/osrelease")).strip();
        GfpCodec gfp = GfpCodec.forRelease(release);
        Kallsyms ksyms = Files.isReadable(Path.of("/proc/kallsyms")) ? Kallsyms.load(Path.of("/proc/kallsyms")) : Kallsyms.empty();
        if (DEBUG) log.println("kmemlab: formats read " + System.nanoTime() / 1_000_000);
        RawEventDecoder decoder = new RawEventDecoder(formats, new EventNormalizer(gfp), ksyms);
        RingBuffer rb = new RingBuffer(Tracefs.read(inst.resolve("events/header_page")),
                Tracefs.read(inst.resolve("events/header_event")), ByteOrder.nativeOrder(), 8);
        int pageSize = rb.pageSize();
        String subbuf = Tracefs.readOrNull(inst.resolve("buffer_subbuf_size_kb"));
        if (subbuf != null && !subbuf.isBlank()) pageSize = Integer.parseInt(subbuf.strip()) * 1024;

        List<Integer> cpus = new ArrayList<>();
        try (Stream<Path> s = Files.list(inst.resolve("per_cpu"))) {
            s.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.startsWith("cpu")) cpus.add(Integer.parseInt(n.substring(3)));
            });
        }
        cpus.sort(null);

        java.util.Optional<ProcessHandle> target = java.util.Optional.empty();
        if (o.pid() > 0) {
            target = ProcessHandle.of(o.pid());
            if (target.isEmpty()) throw new RecordingError("no process with pid " + o.pid());
            Tracefs.write(inst.resolve("options/event-fork"), "1");
            Tracefs.write(inst.resolve("set_event_pid"), Integer.toString(o.pid()));
        } else if (!o.command().isEmpty()) {
            // Until the command's shell lists itself, trace nobody: a pid that cannot exist (pid_max - 1
            // is never handed out while pid_max stays) keeps the filter non-empty.
            long pidMax = Long.parseLong(Tracefs.read(Path.of("/proc/sys/kernel/pid_max")).strip());
            Tracefs.write(inst.resolve("set_event_pid"), Long.toString(pidMax - 1));
        }
        if (o.stacks()) {
            for (Path d : eventDirs) {
                // Each trigger costs the kernel an RCU grace period to add and remove: only the
                // allocation events (kmem, percpu) get stacks, not every vmscan/compaction event.
                String sys = d.getParent().getFileName().toString();
                if (!sys.equals("kmem") && !sys.equals("percpu")) continue;
                Path t = d.resolve("trigger");
                Tracefs.write(t, "stacktrace");
                triggers.add(t);
            }
        }
        for (Path d : eventDirs) {
            Path en = d.resolve("enable");
            Tracefs.write(en, "1");
            enabled.add(en);
        }
        int maxCpu = cpus.isEmpty() ? 0 : cpus.get(cpus.size() - 1);
        CpuReader[] readers = new CpuReader[maxCpu + 1];
        for (int c : cpus) {
            FileChannel ch = FileChannel.open(inst.resolve("per_cpu/cpu" + c + "/trace_pipe_raw"), StandardOpenOption.READ);
            channels.add(ch);
            readers[c] = new CpuReader(c, ch, inst.resolve("per_cpu/cpu" + c + "/stats"), pageSize);
        }

        Map<String, String> header = new LinkedHashMap<>();
        header.put(TraceSchema.META_SOURCE_FORMAT, "tracefs");
        header.put(TraceSchema.META_SOURCE, inst.toString());
        header.put(TraceSchema.META_KERNEL_RELEASE, release);
        header.put(TraceSchema.META_NR_CPUS, Integer.toString(cpus.size()));
        header.put(TraceSchema.META_GFP_LAYOUT, gfp.layout().name());
        Result result;
        try (TraceWriter w = new TraceWriter(o.output(), header, o.compression().codec(), o.compression().zstdLevel())) {
            Snapshot.take(w, cpus.size(), release);
            w.meta("events_enabled", eventDirs.stream().map(d -> d.getParent().getFileName() + ":" + d.getFileName()).reduce((a, b) -> a + "," + b).orElse(""));
            w.meta("buffer_size_kb", Tracefs.read(inst.resolve("buffer_size_kb")).strip());
            w.meta("kallsyms", ksyms.size() > 0 ? "/proc/kallsyms" : "none");
            w.meta("record_compression", o.compression().name());
            if (DEBUG) log.println("kmemlab: snapshot taken " + System.nanoTime() / 1_000_000);
            Merger merger = new Merger(w, decoder, stackFormat, ksyms);
            merger.savedCmdlinesFile = root.resolve("saved_cmdlines");
            long cpu0 = processCpuNs();
            Tracefs.write(inst.resolve("tracing_on"), "1");
            long t0 = System.nanoTime();
            long deadline = o.durationS() > 0 ? t0 + (long) (o.durationS() * 1e9) : Long.MAX_VALUE;
            Process proc = null;
            if (!o.command().isEmpty()) proc = Spawner.start(o.command(), inst, o.pid() <= 0);
            // A reader thread only copies pages out of the kernel, so the ring buffers keep draining
            // while this thread decodes and the writer compresses (a slow batch must not cost events).
            PageReader pr = new PageReader(readers, rb);
            pr.bufferPages = Math.max(1, leadingNumber(Tracefs.read(inst.resolve("buffer_size_kb")), 8192) * 1024 / pageSize);
            Thread readerThread = new Thread(pr, "kmemlab-trace-pipe-raw");
            readerThread.setDaemon(true);
            readerThread.start();
            boolean excludeSelf = o.command().isEmpty() && Files.exists(inst.resolve("set_event_notrace_pid"));
            // Reading trace_pipe_raw allocates and frees pages in the reader's own context: without this
            // the recorder would record mostly itself on an idle machine (trace-cmd has the same loop).
            if (excludeSelf) excludeOwnThreads();
            long selfExcludedAgain = t0 + 1_000_000_000L;
            long lastFlush = t0;
            boolean stopping = false;
            long drainDeadline = Long.MAX_VALUE;
            while (true) {
                if (!stopping && (stop.get() || System.nanoTime() >= deadline || (proc != null && !proc.isAlive())
                        || (target.isPresent() && !target.get().isAlive()))) {
                    stopping = true;
                    // On a signal the user waits: finish the file within a bound, and count what is
                    // left unread as lost rather than keep the terminal (and the shutdown hook) waiting.
                    if (stop.get()) drainDeadline = System.nanoTime() + SIGNAL_DRAIN_NS;
                    if (DEBUG) log.println("kmemlab: stopping " + System.nanoTime() / 1_000_000);
                    // Stop the events; the reader drains what is left and ends.
                    Tracefs.write(inst.resolve("tracing_on"), "0");
                    pr.stop = true;
                }
                // Everything read before this time is queued: events older than it minus a margin
                // (events still being committed when their page was read) can be written in order,
                // unless a page still queued may hold older ones (its stamp says how old, see drain).
                long readUpTo = pr.readUpTo;
                boolean done = !readerThread.isAlive();
                boolean giveUp = false;
                int pages = 0;
                boolean left = false;
                for (CpuReader r : readers) {
                    if (r == null) continue;
                    byte[] pg;
                    // A bounded share per CPU per round, so that writing and flushing keep going.
                    for (int k = 0; k < 256 && (pg = r.queue.poll()) != null; k++) {
                        pages++;
                        pr.queued.addAndGet(-pg.length);
                        ByteBuffer meta = ByteBuffer.wrap(pg).order(ByteOrder.nativeOrder());
                        int len = meta.getInt(pg.length - 12);
                        ByteBuffer b = ByteBuffer.wrap(pg, 0, pg.length - 12).order(ByteOrder.nativeOrder());
                        if (!giveUp && stopping && (pages & 15) == 0 && System.nanoTime() > drainDeadline) giveUp = true;
                        if (giveUp) {
                            r.counter.n = 0;
                            rb.page(b, 0, len, r.counter);
                            r.dropped += r.counter.n;
                            pr.droppedEvents += r.counter.n;
                        } else {
                            merger.cpu = r.cpu;
                            if (rb.page(b, 0, len, merger.visitor(r)) != null) merger.unparsed++;
                        }
                        r.free.offer(pg);
                    }
                    byte[] head = r.queue.peek();
                    if (head != null) {
                        left = true;
                        long stamp = ByteBuffer.wrap(head).order(ByteOrder.nativeOrder()).getLong(head.length - 8);
                        readUpTo = Math.min(readUpTo, stamp);
                    }
                }
                if (done && pr.failure != null) throw pr.failure;
                if (done && !left) break;
                merger.emitBefore(readUpTo - 20_000_000L);
                long now = System.nanoTime();
                if (excludeSelf && now > selfExcludedAgain) {
                    excludeOwnThreads(); // threads started since (the writer's encoder, GC workers)
                    selfExcludedAgain = Long.MAX_VALUE;
                }
                if (now - lastFlush > 1_000_000_000L) {
                    w.flush();
                    lastFlush = now;
                }
                if (pages == 0) sleep(5);
            }
            merger.emitBefore(Long.MAX_VALUE);
            if (DEBUG) log.println("kmemlab: drained " + System.nanoTime() / 1_000_000);
            if (pr.droppedEvents > 0) w.meta("lost_in_kmemlab_queue", Long.toString(pr.droppedEvents));
            Map<Integer, Long> lost = new TreeMap<>();
            for (CpuReader r : readers) {
                if (r == null) continue;
                long fromStats = r.statsLost();
                long n = Math.max(fromStats, r.missed) + r.dropped;
                if (DEBUG) log.println("kmemlab: cpu" + r.cpu + " lost: stats " + fromStats + ", page flags " + r.missed);
                if (n > 0) {
                    w.lost(r.cpu, n);
                    lost.put(r.cpu, n);
                }
            }
            if (merger.unparsed > 0) w.meta("raw_records_unparsed", Long.toString(merger.unparsed));
            long cpid = -1;
            int exit = -1;
            if (proc != null) {
                cpid = proc.pid();
                if (proc.isAlive()) proc.destroy();
                try {
                    exit = proc.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                w.meta("command", String.join(" ", o.command()));
                w.meta("command_pid", Long.toString(cpid));
                w.meta("command_exit", Integer.toString(exit));
            }
            long wall = System.nanoTime() - t0;
            long cpuUsed = processCpuNs() - cpu0;
            w.meta("duration_ns", Long.toString(wall));
            w.meta("recorder_cpu_ns", Long.toString(cpuUsed));
            result = new Result(w.events(), lost, cpid, exit, inst.getFileName().toString(), wall, cpuUsed);
            if (DEBUG) log.println("kmemlab: closing " + System.nanoTime() / 1_000_000);
        }
        if (DEBUG) log.println("kmemlab: closed " + System.nanoTime() / 1_000_000);
        return result;
    }

    /** The number a tracefs file starts with ("1408" or "7 (expanded: 1408)"), else {@code dflt}. */
    static long leadingNumber(String text, long dflt) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*(\\d+)").matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : dflt;
    }

    /** Adds this JVM's threads to the instance's set_event_notrace_pid. */
    private void excludeOwnThreads() {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(t -> sb.append(t.getFileName()).append(' '));
        } catch (IOException e) {
            return;
        }
        if (sb.length() > 0) Tracefs.append(inst.resolve("set_event_notrace_pid"), sb.toString().strip() + "\n");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void resolve(String spec, boolean defaults, List<Path> out, PrintStream log) throws IOException {
        for (String s : spec.split(",")) {
            s = s.strip();
            if (s.isEmpty()) continue;
            String[] parts = s.split("[:/]", 2);
            Path d = inst.resolve("events").resolve(parts[0]);
            if (parts.length == 2 && !parts[1].equals("*")) d = d.resolve(parts[1]);
            if (!Files.isDirectory(d)) {
                if (defaults) {
                    log.println("kmemlab: this kernel has no " + s + " events; recording without them");
                    continue;
                }
                throw new RecordingError("no such trace event: " + s + " (not in " + root.resolve("events") + "; see available_events)");
            }
            if (Files.exists(d.resolve("format"))) {
                out.add(d);
            } else {
                try (Stream<Path> ls = Files.list(d)) {
                    ls.filter(p -> Files.exists(p.resolve("format"))).sorted().forEach(out::add);
                }
            }
        }
    }

    private static EventFormat parseFormat(Path dir) {
        String sys = dir.getParent().getFileName().toString();
        try {
            return EventFormat.parse(sys, Tracefs.read(dir.resolve("format")));
        } catch (IllegalArgumentException e) {
            throw new RecordingError("cannot parse " + dir.resolve("format") + ": " + e.getMessage(), e);
        }
    }

    /** One CPU's trace_pipe_raw: reads whole pages, only as many as the stats say are waiting. */
    static final class CpuReader {
        final int cpu;
        final FileChannel ch;
        final Path stats;
        final ByteBuffer page;
        long missed;
        long missedUnknown;

        CpuReader(int cpu, FileChannel ch, Path stats, int pageSize) {
            this.cpu = cpu;
            this.ch = ch;
            this.stats = stats;
            this.page = ByteBuffer.allocateDirect(pageSize).order(ByteOrder.nativeOrder());
        }

        long stat(String text, String key) {
            for (String line : text.split("\n")) {
                if (line.startsWith(key)) {
                    try {
                        return Long.parseLong(line.substring(key.length()).strip());
                    } catch (NumberFormatException e) {
                        return 0;
                    }
                }
            }
            return 0;
        }

        long entries() {
            String s = Tracefs.readOrNull(stats);
            return s == null ? 0 : stat(s, "entries:");
        }

        long statsLost() {
            String s = Tracefs.readOrNull(stats);
            return s == null ? 0 : stat(s, "overrun:") + stat(s, "dropped events:");
        }

        final java.util.concurrent.ConcurrentLinkedQueue<byte[]> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final java.util.concurrent.ConcurrentLinkedQueue<byte[]> free = new java.util.concurrent.ConcurrentLinkedQueue<>();
        /** Events in pages dropped because kmemlab's own queue was full (counted as lost on this CPU). */
        volatile long dropped;
        final Counter counter = new Counter();

        /** Counts a page's events without decoding them. */
        static final class Counter implements RingBuffer.Visitor {
            int n;
            @Override public void event(ByteBuffer b, int off, int len, long ts) { n++; }
            @Override public void missed(long count) { }
        }

        /**
         * Copies pages until the entries counted at the start have been consumed (so the read never
         * blocks); each copy carries its length in its last 4 bytes. Returns events read.
         */
        int drain(RingBuffer rb, PageReader pr) throws IOException {
            long want = entries();
            int got = 0;
            while (got < want) {
                page.clear();
                int n = ch.read(page);
                if (n <= 0) break;
                counter.n = 0;
                rb.page(page, 0, n, counter);
                if (counter.n == 0) break;
                got += counter.n;
                pr.eventsSeen += counter.n;
                pr.pagesSeen++;
                if (pr.queued.get() > PageReader.MAX_QUEUED) {
                    // The decoder is too far behind: drop the page, and say so as lost events.
                    dropped += counter.n;
                    pr.droppedEvents += counter.n;
                    continue;
                }
                byte[] copy = free.poll();
                if (copy == null || copy.length != page.capacity() + 12) copy = new byte[page.capacity() + 12];
                page.get(0, copy, 0, n);
                // Length, and the start of the previous read cycle: every event older than that was
                // read in an earlier cycle, so this page holds none older (the decoder's watermark).
                ByteBuffer.wrap(copy).order(ByteOrder.nativeOrder()).putInt(copy.length - 12, n).putLong(copy.length - 8, pr.prevCycle);
                pr.queued.addAndGet(copy.length);
                queue.offer(copy);
            }
            return got;
        }
    }

    /** The thread that empties the per-CPU ring buffers into in-memory queues. */
    static final class PageReader implements Runnable {
        /** Bytes of pages waiting for the decoder before new pages are dropped (and counted as lost). */
        static final long MAX_QUEUED = 512L << 20;
        final CpuReader[] readers;
        final RingBuffer rb;
        final java.util.concurrent.atomic.AtomicLong queued = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean stop;
        volatile long readUpTo = Long.MIN_VALUE;
        long prevCycle = Long.MIN_VALUE;
        volatile long droppedEvents;
        volatile IOException failure;

        PageReader(CpuReader[] readers, RingBuffer rb) {
            this.readers = readers;
            this.rb = rb;
        }

        @Override
        public void run() {
            try {
                long prevStart = System.nanoTime();
                while (true) {
                    boolean last = stop; // tracing is off once stop is seen: one more pass drains everything
                    long cycle = System.nanoTime();
                    int busiest = 0;
                    for (CpuReader r : readers) if (r != null) busiest = Math.max(busiest, r.drain(rb, this));
                    readUpTo = cycle;
                    prevCycle = cycle;
                    if (last) return;
                    sleepNs(pollNs(busiest, cycle - prevStart));
                    prevStart = cycle;
                }
            } catch (IOException e) {
                failure = e;
            }
        }

        /** Pages per CPU ring buffer, for the polling period; set before the thread starts. */
        long bufferPages = 2048;
        /** Events per page seen so far, to turn events read into pages. */
        long eventsSeen, pagesSeen;

        /**
         * How long to sleep before the next pass, from how fast the busiest CPU filled its buffer since the last
         * one: long enough that most pages are whole (fewer reads, stats reads and page copies per event), short
         * enough that a buffer is at most about a quarter full when read. Without events it still comes back
         * before a CPU writing a million events a second (about 12,500 pages) could fill a quarter of its buffer.
         */
        long pollNs(int busiestEvents, long sinceLastNs) {
            long quarter = Math.max(1, bufferPages / 4);
            long ceiling = Math.min(MAX_POLL_NS, Math.max(MIN_POLL_NS, quarter * 80_000L));
            if (busiestEvents <= 0 || sinceLastNs <= 0) return ceiling;
            double perPage = pagesSeen == 0 ? 80 : (double) eventsSeen / pagesSeen;
            double pagesPerNs = busiestEvents / perPage / sinceLastNs;
            long ns = (long) (quarter / pagesPerNs);
            return Math.max(MIN_POLL_NS, Math.min(ceiling, ns));
        }

        static final long MIN_POLL_NS = 1_000_000L, MAX_POLL_NS = 50_000_000L;
    }

    private static void sleepNs(long ns) {
        try {
            Thread.sleep(ns / 1_000_000L, (int) (ns % 1_000_000L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Decodes events per CPU and writes them in time order behind a watermark. */
    static final class Merger {
        final TraceWriter w;
        final RawEventDecoder dec;
        final EventFormat stackFormat;
        final Kallsyms ksyms;
        /** Decoded events per CPU, each queue in time order (one CPU's ring buffer is). */
        final IntObjectHashMap<java.util.ArrayDeque<TraceEvent>> perCpu = new IntObjectHashMap<>();
        final ArrayList<java.util.ArrayDeque<TraceEvent>> queues = new ArrayList<>();
        final ArrayList<TraceEvent> pool = new ArrayList<>();
        final IntObjectHashMap<TraceEvent> lastOnCpu = new IntObjectHashMap<>();
        final IntObjectHashMap<String> comms = new IntObjectHashMap<>();
        final IntIntHashMap tgids = new IntIntHashMap();
        final ArrayList<String> frames = new ArrayList<>();
        int cpu;
        int seen;
        long unparsed;
        long lastCacheClear = System.nanoTime();
        CpuReader reader;

        Merger(TraceWriter w, RawEventDecoder dec, EventFormat stackFormat, Kallsyms ksyms) {
            this.w = w;
            this.dec = dec;
            this.stackFormat = stackFormat;
            this.ksyms = ksyms;
        }

        private final RingBuffer.Visitor visitor = new RingBuffer.Visitor() {
            @Override
            public void event(ByteBuffer b, int off, int len, long ts) { onEvent(b, off, len, ts); }

            @Override
            public void missed(long count) {
                if (count > 0) reader.missed += count;
                else reader.missed += 1; // the kernel did not store the count: at least one
            }
        };

        RingBuffer.Visitor visitor(CpuReader r) {
            reader = r;
            refreshNames(System.nanoTime());
            return visitor;
        }

        void onEvent(ByteBuffer b, int off, int len, long ts) {
            seen++;
            int id = dec.typeId(b, off, len);
            if (stackFormat != null && id == stackFormat.id) {
                stack(b, off, len);
                return;
            }
            TraceEvent e = pool.isEmpty() ? new TraceEvent() : pool.remove(pool.size() - 1);
            e.clear();
            e.ts(ts);
            e.cpu(cpu);
            int tid = dec.commonPid(b, off);
            e.tid(tid);
            e.pid(tgid(tid));
            e.comm = comm(tid);
            String err = dec.decode(b, off, len, e);
            if (err != null) {
                unparsed++;
                pool.add(e);
                return;
            }
            java.util.ArrayDeque<TraceEvent> q = perCpu.get(cpu);
            if (q == null) {
                q = new java.util.ArrayDeque<>();
                perCpu.put(cpu, q);
                queues.add(q);
            }
            q.addLast(e);
            lastOnCpu.put(cpu, e);
        }

        /** The kernel_stack record follows its event on the same CPU: attach it there. */
        void stack(ByteBuffer b, int off, int len) {
            TraceEvent prev = lastOnCpu.get(cpu);
            EventFormat.Field size = stackFormat.field("size"), caller = stackFormat.field("caller");
            if (prev == null || size == null || caller == null) return;
            int n = b.getInt(off + size.offset);
            int max = (len - caller.offset) / 8;
            n = Math.max(0, Math.min(n, max));
            frames.clear();
            for (int i = 0; i < n; i++) {
                long ip = b.getLong(off + caller.offset + 8 * i);
                if (ip == 0 || ip == -1L) continue;
                String fn = ksyms.function(ip);
                // perf's callchains start at the allocator; drop the tracing machinery's own frames.
                if (frames.isEmpty() && fn != null && (fn.startsWith("trace_event_raw_event_") || fn.startsWith("perf_trace_")
                        || fn.startsWith("trace_") || fn.startsWith("event_triggers_"))) continue;
                frames.add(fn == null ? "0x" + Long.toHexString(ip) : fn);
            }
            if (!frames.isEmpty()) prev.stackId(w.stack(frames));
            lastOnCpu.remove(cpu);
        }

        int tgid(int tid) {
            if (tid <= 0) return tid;
            int g = tgids.getOrDefault(tid, -1);
            return g >= 0 ? g : tgidMiss(tid);
        }

        private int tgidMiss(int tid) {
            int g = tid;
            String s = Tracefs.readOrNull(Path.of("/proc/" + tid + "/status"));
            if (s != null) {
                for (String line : s.split("\n")) {
                    if (line.startsWith("Tgid:")) {
                        g = Integer.parseInt(line.substring(5).strip());
                        break;
                    }
                }
            }
            tgids.put(tid, g);
            return g;
        }

        /** Called once per page: commands change on exec, so live tasks' names are looked up again every second. */
        void refreshNames(long now) {
            if (now - lastCacheClear > 1_000_000_000L) {
                comms.clear();
                lastCacheClear = now;
            }
            // A gone task's name cannot change, but its pid can be handed out again (pid_max may be 32768).
            if (now - goneCleared > 10_000_000_000L) {
                gone.clear();
                goneCleared = now;
            }
        }

        String comm(int tid) {
            String c = comms.get(tid);
            return c != null ? c : commMiss(tid);
        }

        /**
         * Kept out of {@link #comm} so that the per-event path stays small for the JIT. Tasks that have exited
         * are remembered apart from the live ones: a recording that catches up on a backlog sees many of them,
         * and each look-up of a gone task costs a failed open and possibly a re-read of saved_cmdlines.
         */
        private String commMiss(int tid) {
            String c = gone.get(tid);
            if (c == null) {
                if (tid == 0) c = "swapper";
                else {
                    String s = Tracefs.readOrNull(Path.of("/proc/" + tid + "/comm"));
                    if (s != null) c = s.strip();
                    else {
                        // Gone already: the kernel's saved_cmdlines (recorded at sched switch) may still know it.
                        c = savedComm(tid);
                        if (c == null) c = "<...>";
                        gone.put(tid, c);
                    }
                }
            }
            comms.put(tid, c);
            return c;
        }

        final IntObjectHashMap<String> gone = new IntObjectHashMap<>();
        long goneCleared = System.nanoTime();

        String saved;
        long savedAt;
        Path savedCmdlinesFile;

        /**
         * The name saved_cmdlines gives {@code tid} ("PID COMM" lines), re-read when more than 100 ms old. Found
         * by searching the text rather than parsing it into a map: the table can hold thousands of entries
         * (saved_cmdlines_size) and a recording that sees many short-lived tasks re-reads it often.
         */
        String savedComm(int tid) {
            long now = System.nanoTime();
            if (saved == null || now - savedAt > 100_000_000L) {
                String s = savedCmdlinesFile == null ? null : Tracefs.readOrNull(savedCmdlinesFile);
                saved = s == null ? "" : s;
                savedAt = now;
            }
            String key = tid + " ";
            int at = saved.startsWith(key) ? 0 : saved.indexOf("\n" + key);
            if (at < 0) return null;
            int from = (at == 0 ? 0 : at + 1) + key.length();
            int to = saved.indexOf('\n', from);
            return saved.substring(from, to < 0 ? saved.length() : to);
        }

        /** Writes, in time order (a merge of the per-CPU queues), the events older than {@code watermark}. */
        void emitBefore(long watermark) {
            while (true) {
                java.util.ArrayDeque<TraceEvent> best = null;
                long bestTs = Long.MAX_VALUE;
                for (int i = 0, n = queues.size(); i < n; i++) {
                    TraceEvent h = queues.get(i).peekFirst();
                    if (h != null && h.tsNs < bestTs) {
                        bestTs = h.tsNs;
                        best = queues.get(i);
                    }
                }
                if (best == null || bestTs >= watermark) return;
                TraceEvent e = best.pollFirst();
                w.accept(e);
                // Keep lastOnCpu valid: an event that may still get its stack is not recycled.
                if (lastOnCpu.get(e.cpu) == e) lastOnCpu.remove(e.cpu);
                pool.add(e);
            }
        }
    }
}
