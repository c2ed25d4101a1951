package org.kmemlab.replay;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.mempool.Mempool;
import org.kmemlab.alloc.page.MachineBuilder;
import org.kmemlab.alloc.page.MachineTooLargeException;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.PageEvents;
import org.kmemlab.alloc.page.Zone;
import org.kmemlab.alloc.policy.CostNames;
import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.alloc.policy.UpperConfig;
import org.kmemlab.alloc.policy.UpperModel;
import org.kmemlab.alloc.slab.CacheNameResolver;
import org.kmemlab.alloc.slab.SlabInfo;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.slab.SlubCache;
import org.kmemlab.alloc.snapshot.MachineSnapshot;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.TableWriter;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

import com.carrotsearch.hppc.LongHashSet;
import com.carrotsearch.hppc.LongLongHashMap;

/**
 * Replays one trace under one policy, deterministically, and writes the results under
 * {@code out/<policy>/}: {@code requests.arrow}, {@code profile.arrow} (+ {@code profile.folded}),
 * {@code timeline.arrow}, {@code events.arrow} (the model's own derived events in the trace schema) and
 * {@code summary.json}. See replayer/README.md for the event classification and the engine's design.
 */
public final class Replayer {
    static final int ROUTE_KMALLOC = 1, ROUTE_KVMALLOC = 2, ROUTE_CACHE = 3, ROUTE_MEMPOOL = 4, ROUTE_SPL = 5;
    private static final String INITIAL = "[initial state]";

    private final Path trace;
    private final String policy;
    /** The trace's header and trailer, read once for the hints and the model. */
    private final TraceInfo info;
    private final ReplayOptions opts;
    private final Detectors.Options detectOpts;
    private final UpperConfig cfg;
    private final CostTable costs = new CostTable();
    private Engine engine;
    private PageAllocator pages;
    private UpperModel upper;
    private GfpTranslator gfp;
    private long t0;
    private final LiveObjects live = new LiveObjects();
    private final LongLongHashMap pageMap = new LongLongHashMap();
    /**
     * Model pfn → trace pfn of the trace's movable pages, which the model may reclaim (page cache) or move
     * (page cache and anonymous) like the kernel would: {@link ModelEvents} keeps {@link #pageMap} in step.
     */
    private final LongLongHashMap pageOwner = new LongLongHashMap();
    /** Trace pfns of page cache the model reclaimed: the trace's own later free of one has nothing left to free. */
    private final LongHashSet reclaimedTracePages = new LongHashSet();
    private final Map<String, Mempool> pools = new TreeMap<>();
    private final Map<String, Integer> poolIndex = new HashMap<>();
    private final List<Mempool> poolList = new ArrayList<>();
    private final java.util.Set<String> mempoolCaches = new java.util.HashSet<>();
    private final java.util.Set<String> kvmallocSites = new java.util.HashSet<>();
    private final Map<String, Integer> splSizes = new HashMap<>();
    private final Map<String, org.kmemlab.alloc.spl.SplCache> splCaches = new TreeMap<>();
    /** requests.fallback of an SPL allocation that got an emergency object, and of the free of one. */
    static final String SPL_EMERGENCY = "spl_emergency";
    private CacheNameResolver resolver;
    private List<SlabInfo.Line> slabLines;
    private TableWriter requests;
    private TraceWriter events;
    private final Summary sum = new Summary();
    private long nextSample;
    private long lastT;
    private long lastTask = Long.MIN_VALUE;
    private final Map<String, Long> slabPagesAtStart = new HashMap<>();
    private long largeKmallocPagesAtStart;
    private TableWriter timeline;
    /** Timeline metric names per cache, made once (the timeline writes one row per cache per sample). */
    private final Map<String, String> slabMetric = new HashMap<>();
    /** {@code [comm]}, the frame of a request without a call site, made once per task name. */
    private final Map<String, String> commFrames = new HashMap<>();
    private RowSet derivedRows;
    private final TraceEvent ev = new TraceEvent();
    /** Settings from the trace's replay hints, and the effective ones (hints under explicit --set). */
    private final Map<String, String> hints, settings;
    private SeedRequests seed;
    private Map<Integer, List<String>> stacks = Map.of();
    private RowSet rcuFreeRows;

    /** What the user should know about the replay's set-up (summary.json {@code warnings}; the CLI prints them). */
    private final List<String> warnings = new ArrayList<>();

    /**
     * The recording's slabs, recreated from its snapshot, may not fit a machine made smaller with
     * replay.memoryBytes: then most of the trace fails for want of memory, not because of the policy.
     */
    private void checkRoomAtStart() {
        long managed = 0;
        for (Zone z : pages.zones()) managed += z.managed;
        long slab = 0;
        for (long p : slabPagesAtStart.values()) slab += p;
        if (managed > 0 && slab * 2 > managed) {
            warnings.add(String.format("the recording's slabs (%d MiB, from its snapshot) fill %.0f%% of the model's %d MiB: most "
                    + "allocations will fail for want of memory; give it more (replay.memoryBytes) or start without them "
                    + "(replay.populateSlabs=false)", slab >> 8, 100.0 * slab / managed, managed >> 8));
        }
    }

    /** Counters that go into summary.json. */
    static final class Summary {
        long populatedObjects, untracedAllocs, untracedFrees, events, requests, derived, observed, ignored, failures, parkedRequests, freesUnknown, preexistingObjects,
                preexistingPages, modeledNs, delayNs, spinNs, sleepNs, maxDelayNs, kvmallocVmalloc, mempoolReserve,
                tracePagesReclaimed, tracePagesMigrated, freesOfReclaimedPages;
        /** Per request kind (by ordinal): requests, modeled ns, failures. */
        final long[][] byKind = new long[RequestKind.values().length][];
    }

    /**
     * Replay settings split among their owners: the detectors' knobs, the engine's {@code replay.*} knobs,
     * {@code cost.*} overrides and the policy's knobs. One parse serves the constructor and the check of a
     * trace's hints, so a key either accepts is a key both accept.
     */
    record Settings(Detectors.Options detect, ReplayOptions opts, Map<String, Long> costs, UpperConfig cfg) {
        static Settings parse(String policy, Map<String, String> settings) {
            Map<String, String> rest = new LinkedHashMap<>(settings);
            Detectors.Options detect = Detectors.Options.from(rest);
            ReplayOptions opts = ReplayOptions.from(rest);
            Map<String, Long> costs = new LinkedHashMap<>();
            rest.entrySet().removeIf(e -> {
                if (!e.getKey().startsWith("cost.")) return false;
                CostNames.check(e.getKey().substring(5));
                costs.put(e.getKey().substring(5), Long.parseLong(e.getValue()));
                return true;
            });
            return new Settings(detect, opts, costs, PolicyRegistry.configure(policy, rest));
        }
    }

    public Replayer(Path trace, String policy, Map<String, String> set) {
        this(trace, PolicySpec.of(policy), set);
    }

    /** A named variant of a preset ({@link PolicySpec}): its knobs win over {@code set} and the trace's hints. */
    public Replayer(Path trace, PolicySpec spec, Map<String, String> set) {
        this.trace = trace;
        this.policy = spec.name();
        // the header holds nr_cpus, the kernel release and the hints, which the trailer alone does not
        try {
            this.info = TraceReader.readHeaderAndInfo(trace);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.hints = ReplayHints.of(trace, info, spec.preset());
        Map<String, String> given = new LinkedHashMap<>(set);
        given.putAll(spec.knobs());
        this.settings = ReplayHints.effective(hints, given);
        Settings parsed = Settings.parse(spec.preset(), settings);
        this.detectOpts = parsed.detect();
        this.opts = parsed.opts();
        parsed.costs().forEach(costs::set);
        this.cfg = parsed.cfg();
        for (String s : opts.kvmallocSites().split(",")) if (!s.isBlank()) kvmallocSites.add(s.trim());
        for (String s : opts.mempoolCaches().split(",")) if (!s.isBlank()) mempoolCaches.add(s.trim());
        for (String s : opts.splCaches().split(",")) {
            if (s.isBlank()) continue;
            String[] kv = s.trim().split(":");
            if (kv.length == 0 || kv[0].isEmpty()) throw new IllegalArgumentException("replay.splCaches: '" + s.trim() + "' is not CACHE or CACHE:OBJECTS");
            splSizes.put(kv[0], kv.length > 1 ? Integer.parseInt(kv[1]) : 0);
        }
        if (cfg.btrfsExtentStateAlloc() == UpperConfig.ExtentStateAlloc.MEMPOOL) {
            mempoolCaches.add("extent_state");
            mempoolCaches.add("btrfs_extent_state");
        }
    }

    public String policy() { return policy; }

    /** Runs the replay and writes {@code outDir}; returns the summary as written to summary.json. */
    public Map<String, Object> run(Path outDir) throws IOException {
        return run(outDir, PrePass.scan(trace));
    }

    /**
     * The same with the pre-pass of this replay's trace already made: the replays of one trace under several
     * policies share one ({@link MultiReplay}), which only reads it.
     */
    Map<String, Object> run(Path outDir, PrePass pre) throws IOException {
        Files.createDirectories(outDir);
        t0 = pre.t0;
        derivedRows = pre.derivedRows.fresh();
        int nrCpus = Math.max(1, Math.max(pre.maxCpu + 1, intMeta(info, "nr_cpus", 1)));
        buildModel(info, nrCpus);
        engine = new Engine(pages, upper, costs, nrCpus, opts.lockFrames(), opts.gracePeriodNs(), opts.kworkerLatencyNs(),
                opts.kthreadLatencyNs());
        engine.retrier = this::retry;
        engine.kernelThreads = new KernelThreads(info.snapshot.get(KernelThreads.SNAPSHOT_FILE));
        engine.detect = new Detectors(detectOpts, cfg.kfreeRcuPreemptRt());
        seed = new SeedRequests(upper, pages, costs);
        seed.t0 = t0;
        stacks = info.stacks;
        rcuFreeRows = pre.rcuFreeRows.fresh();
        try (TableWriter req = new TableWriter(outDir.resolve("requests.arrow"),
                List.of("ts_ns", "start_ns", "cpu", "pid", "comm", "kind", "call_site_fn", "cache", "bytes_req",
                        "bytes_alloc_trace", "bytes_alloc_model", "gfp", "order", "outcome", "modeled_ns", "delay_ns",
                        "spin_ns", "sleep_ns", "path_id", "fallback", "mutex_wait_ns", "mutex_hold_ns"),
                List.of(TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.INT, TableWriter.Type.INT,
                        TableWriter.Type.STRING, TableWriter.Type.STRING, TableWriter.Type.STRING, TableWriter.Type.STRING,
                        TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.STRING,
                        TableWriter.Type.INT, TableWriter.Type.STRING, TableWriter.Type.LONG, TableWriter.Type.LONG,
                        TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.STRING,
                        TableWriter.Type.LONG, TableWriter.Type.LONG),
                Map.of("kmemlab.policy", policy));
             TableWriter tl = new TableWriter(outDir.resolve("timeline.arrow"), List.of("t_ns", "metric", "value"),
                     List.of(TableWriter.Type.LONG, TableWriter.Type.STRING, TableWriter.Type.DOUBLE), Map.of("kmemlab.policy", policy));
             TraceWriter evw = new TraceWriter(outDir.resolve("events.arrow"),
                     ordered(TraceSchema.META_SOURCE_FORMAT, "kmemlab-replay", TraceSchema.META_SOURCE, "policy " + policy),
                     TraceWriter.Compression.NONE)) {
            requests = req;
            timeline = tl;
            events = evw;
            // The initial state's page traffic is not the trace's: the model's events start after it.
            initialState(pre);
            checkRoomAtStart();
            engine.detect.setUp(engine, pages, engine.context(0), engine.profile.root.child(INITIAL));
            pages.setEvents(new ModelEvents());
            if (pages.vmstatDecaysPcpHigh()) engine.startVmstat(opts.vmstatIntervalNs());
            pages.setCompactionProactiveness((int) opts.compactionProactiveness());
            try (TraceReader r = new TraceReader(trace)) {
                long row = 0;
                outer:
                while (r.next()) {
                    TraceBatch b = r.batch();
                    // How each event name is replayed, once per batch: rows that are not requests are only counted.
                    String[] names = b.dictionary(TraceSchema.EVENT);
                    RequestKind[] kinds = new RequestKind[names.length];
                    for (int k = 0; k < kinds.length; k++) kinds[k] = RequestKind.of(names[k]);
                    for (int i = 0, n = b.size(); i < n; i++, row++) {
                        int ei = b.dictIndex(TraceSchema.EVENT, i);
                        RequestKind kind = ei < 0 ? RequestKind.IGNORED : kinds[ei];
                        if (!kind.isRequest()) {
                            count(kind);
                            continue;
                        }
                        b.read(i, ev);
                        handle(ev, row, kind);
                        if (engine.deadlock != null) break outer;
                    }
                }
            }
            engine.tracing = false;
            // Wake-ups from the last events are due now; only then is a still-parked task really stuck.
            long settled = lastT;
            for (long f : engine.cpuFree) settled = Math.max(settled, f);
            if (engine.deadlock == null) engine.runDueUntil(settled, () -> false, null);
            if (engine.deadlock == null) engine.deadlock = engine.endOfTrace();
            if (engine.deadlock == null) {
                // Parked tasks retry at their timeouts; bound the tail by the hung-task watchdog.
                engine.runDueUntil(lastT + opts.hungTaskNs(), () -> false, null);
                if (engine.hasActions() && !engine.parked.isEmpty()) {
                    engine.watchdog.report("forward progress", "%d task(s) still blocked %.0f s after the last event",
                            engine.parked.size(), opts.hungTaskNs() / 1e9);
                }
                engine.hungKthreads(lastT + opts.hungTaskNs(), opts.hungTaskNs());
            }
            sample(Long.MAX_VALUE);
        }
        writeProfile(outDir);
        seed.writeCgroupTable(outDir.resolve("cgroup_mutex.arrow"), policy);
        Map<String, Object> summary = summary(pre, nrCpus);
        Files.writeString(outDir.resolve("summary.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary) + "\n");
        return summary;
    }

    /**
     * A map in the order its entries are given. Map.of iterates in an order salted per JVM, which made
     * summary.json and events.arrow's metadata differ from run to run.
     */
    @SuppressWarnings("unchecked")
    static <V> Map<String, V> ordered(Object... kv) {
        Map<String, V> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (V) kv[i + 1]);
        return m;
    }

    private static int intMeta(TraceInfo info, String key, int d) {
        String v = info.meta.get(key);
        if (v == null) v = info.header.get("kmemlab." + key);
        try {
            return v == null ? d : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return d;
        }
    }

    // ---- model construction ----

    private void buildModel(TraceInfo info, int nrCpus) throws IOException {
        try {
            buildPages(info, nrCpus);
        } catch (MachineTooLargeException e) {
            throw new MachineTooLargeException(e.getMessage() + (opts.memoryBytes() > 0 ? "" : " (the recorded machine's size)")
                    + ": model less memory with --set replay.memoryBytes=SIZE"
                    + (e.heapBound() ? ", or give the JVM more heap (KMEMLAB_JAVA_OPTS=-Xmx...)" : ""), e.heapBound());
        }
        upper = UpperModel.build(cfg, pages, Math.max(nrCpus, pages.nrCpus()), costs);
        String slabinfo = info.snapshot.get("slabinfo");
        if (slabinfo != null) {
            slabLines = SlabInfo.parse(new StringReader(slabinfo));
            SlabInfo.createCaches(upper.slab, slabLines);
        }
        resolver = new CacheNameResolver(upper.slab.caches().values());
    }

    private void buildPages(TraceInfo info, int nrCpus) throws IOException {
        String rel = info.kernelRelease() != null ? info.kernelRelease() : info.meta.get("kernel_release");
        if (rel == null && info.snapshot.containsKey("kernel-release")) rel = info.snapshot.get("kernel-release").trim();
        gfp = new GfpTranslator(info.meta.containsKey("gfp_layout")
                ? GfpCodec.of(GfpCodec.Layout.valueOf(info.meta.get("gfp_layout"))) : GfpCodec.forRelease(rel));
        if (info.snapshot.containsKey("buddyinfo") && info.snapshot.containsKey("zoneinfo") && opts.memoryBytes() == 0) {
            Path dir = Files.createTempDirectory("kmemlab-snapshot");
            try {
                for (Map.Entry<String, String> e : info.snapshot.entrySet()) Files.writeString(dir.resolve(e.getKey()), e.getValue());
                MachineSnapshot snap = MachineSnapshot.load(dir);
                pages = MachineBuilder.fromSnapshot(snap, cfg.era());
                if (opts.used() >= 0) MachineBuilder.fillUsed(pages, opts.used());
            } finally {
                try (var s = Files.list(dir)) { for (Path p : s.toList()) Files.delete(p); }
                Files.delete(dir);
            }
        } else {
            MachineBuilder.Params p = new MachineBuilder.Params().cpus(nrCpus).era(cfg.era()).seed(opts.seed())
                    .fragmentation(opts.fragmentation());
            if (opts.used() >= 0) p.used(opts.used());
            if (opts.memoryBytes() > 0) p.totalBytes(opts.memoryBytes());
            pages = MachineBuilder.fromParams(p);
        }
    }

    // ---- the event loop ----

    /** An event that is not replayed. */
    private void count(RequestKind kind) {
        sum.events++;
        switch (kind) {
            case DERIVED, DERIVED_PAGE -> sum.derived++;
            case OBSERVED -> sum.observed++;
            default -> sum.ignored++;
        }
    }

    /** An event whose name makes it a request ({@code kind}), unless the pre-pass found it derived. */
    private void handle(TraceEvent e, long row, RequestKind kind) {
        if (derivedRows.contains(row)) {
            count(RequestKind.DERIVED_PAGE);
            return;
        }
        if (rcuFreeRows.contains(row)) {
            // kfree_rcu_work's own kfree of an object kvfree_call_rcu queued: the model frees it after its grace period.
            seed.kfreeRcuWorkFrees++;
            count(RequestKind.DERIVED);
            return;
        }
        sum.events++;
        long t = e.tsNs - t0;
        lastT = Math.max(lastT, t);
        if (t >= nextSample) sample(t);
        engine.runDueUntil(t, () -> false, null);
        long task = taskOf(e);
        if (task != lastTask) {
            engine.taskNames.putIfAbsent(task, e.comm);
            engine.detect.taskSeen(engine, task, e.comm);
            lastTask = task;
        }
        Engine.Parked p = engine.parked.get(task);
        if (p != null) {
            TraceEvent c = new TraceEvent();
            c.copyFrom(e);
            p.pending.add(c);
            return;
        }
        execute(e, t, kind);
    }

    private static long taskOf(TraceEvent e) { return e.has(TraceEvent.F_TID) ? e.tid : e.pid; }

    /** Runs one request; returns false when it parked. */
    private boolean execute(TraceEvent e, long t, RequestKind kind) {
        int cpu = Math.floorMod(e.cpu, engine.nrCpus());
        long task = taskOf(e);
        ReplayContext ctx = engine.context(cpu);
        long start = Math.max(t, Math.max(engine.cpuFree[cpu], engine.taskReady(task)));
        CallTree.Node root = rootFor(e, kind == RequestKind.KMALLOC && e.callSiteFn != null && kvmallocSites.contains(e.callSiteFn));
        ctx.begin(task, start, root);
        seed.lastFallback = null;
        seed.lastMutexWait = -1;
        seed.lastMutexHold = -1;
        ctx.atomic = e.context != null && !e.context.equals("task");
        engine.running = ctx;
        long kvFallbackBefore = upper.kvmalloc.statVmallocFallback;
        long reserveBefore = totalReserveTaken();
        String outcome;
        long modelBytes = -1;
        int order = -1;
        try {
            long r = request(ctx, e, kind);
            outcome = r == FAIL ? "fail" : r == UNKNOWN ? "unknown_object" : "ok";
            if (r >= 0 && (kind == RequestKind.KMALLOC || kind == RequestKind.CACHE_ALLOC)) modelBytes = r;
            if (kind == RequestKind.PAGE_ALLOC) order = e.order;
        } catch (Park pk) {
            ctx.unwindTo(root);
            engine.cpuFree[cpu] = Math.max(engine.cpuFree[cpu], ctx.now);
            TraceEvent c = new TraceEvent();
            c.copyFrom(e);
            // A task is never parked twice: its later events queue behind it and retry() unparks it first.
            Engine.Parked np = new Engine.Parked(task, c, pk.waitQueue, ctx.now, cpu);
            np.frames = pk.frames;
            engine.pendingTimeout = pk.timeoutAt;
            sum.parkedRequests++;

            DeadlockReport d = engine.park(np);
            if (d != null) engine.deadlock = d;
            engine.pollKthreads(ctx.now);
            return false;
        }
        long end = ctx.now;
        engine.cpuFree[cpu] = end;
        engine.setTaskReady(task, end);
        engine.detect.requestDone(ctx);
        String fallback = null;
        if (upper.kvmalloc.statVmallocFallback > kvFallbackBefore) { fallback = "vmalloc"; sum.kvmallocVmalloc++; }
        if (totalReserveTaken() > reserveBefore) { fallback = "mempool_reserve"; sum.mempoolReserve++; }
        if (kind == RequestKind.PAGE_ALLOC && pages.lastOutcome().took(org.kmemlab.alloc.page.AllocOutcome.PATH_SLOWPATH)) fallback = "slowpath";
        if (seed.lastFallback != null) fallback = seed.lastFallback;
        if (outcome.equals("fail")) sum.failures++;
        if (outcome.equals("unknown_object")) sum.freesUnknown++;
        long modeled = end - start - ctx.sleepNs;
        long delay = start - t;
        sum.requests++;
        sum.modeledNs += modeled;
        sum.delayNs += delay;
        sum.spinNs += ctx.spinNs;
        sum.sleepNs += ctx.sleepNs;
        sum.maxDelayNs = Math.max(sum.maxDelayNs, delay);
        long[] k = sum.byKind[kind.ordinal()];
        if (k == null) k = sum.byKind[kind.ordinal()] = new long[3];
        k[0]++;
        k[1] += modeled;
        if (outcome.equals("fail")) k[2]++;
        if (end - t > opts.allocStallNs()) engine.watchdog.report("allocation stall", "task %d (%s) %s took %.3f s",
                task, e.comm, e.event, (end - t) / 1e9);
        requests.add(e.tsNs).add(start).add(e.cpu).add(e.pid).add(e.comm).add(kind.label)
                .add(e.callSiteFn).add(e.cache).add(e.has(TraceEvent.F_BYTES_REQ) ? e.bytesReq : 0)
                .add(e.has(TraceEvent.F_BYTES_ALLOC) ? e.bytesAlloc : 0).add(modelBytes).add(e.gfp).add(order)
                .add(outcome).add(modeled).add(delay).add(ctx.spinNs).add(ctx.sleepNs).add(ctx.pathHash)
                .add(fallback);
        // Only cgroup operations take cgroup_mutex; the other rows leave both cells NULL.
        if (seed.lastMutexWait < 0) requests.addNull().addNull(); else requests.add(seed.lastMutexWait).add(seed.lastMutexHold);
        requests.endRow();
        engine.pollKthreads(end);
        return true;
    }

    private long totalReserveTaken() {
        long n = 0;
        for (int i = 0; i < poolList.size(); i++) n += poolList.get(i).statReserveTaken;
        return n;
    }

    /** A parked task is retried: on wake-up or when its wait timed out. Its later events follow if it completes. */
    private void retry(long task, long at, boolean timedOut) {
        Engine.Parked p = engine.parked.remove(task);
        if (p == null) return;
        engine.cpuFree[p.cpu] = Math.max(engine.cpuFree[p.cpu], at);
        engine.setTaskReady(task, Math.max(engine.taskReady(task), at));
        if (engine.watchdogHung(p, at, opts.hungTaskNs())) {
            engine.watchdog.report("hung task", "%d (%s) blocked for more than %.0f s on %s", task,
                    engine.taskNames.get(task), opts.hungTaskNs() / 1e9, engine.resourceNames.get(p.waitQueue));
        }
        // A retry after the timeout makes the same wait return TIMED_OUT once instead of parking again.
        ReplayContext ctx = engine.context(p.cpu);
        ctx.resumeTimedOut = timedOut ? p.waitQueue : null;
        boolean done = execute(p.request, p.request.tsNs - t0, RequestKind.of(p.request.event));
        ctx.resumeTimedOut = null;
        // Parked again in the same request: it keeps the time it first blocked (for the hung-task watchdog).
        if (!done && engine.parked.get(task) != null) engine.parked.get(task).since = p.since;
        ArrayDeque<TraceEvent> q = new ArrayDeque<>(p.pending);
        while (done && !q.isEmpty()) {
            TraceEvent n = q.poll();
            done = execute(n, n.tsNs - t0, RequestKind.of(n.event));
        }
        Engine.Parked again = engine.parked.get(task);
        if (!done && again != null) again.pending.addAll(q);
    }

    /**
     * The flags the caller passed to kvmalloc_node(), from those its kmalloc tracepoint printed. kvmalloc_node()
     * (mm/util.c, 4.12–5.x) adds __GFP_NOWARN, and __GFP_NORETRY unless __GFP_RETRY_MAYFAIL, to the kmalloc
     * attempt of a size above PAGE_SIZE, but falls back to __vmalloc_node() with the caller's own flags: replaying
     * the printed flags would make the vmalloc fallback NORETRY and fail where the kernel's does not.
     */
    static long kvmallocCallerFlags(long traced, long size) {
        if (size <= org.kmemlab.alloc.slab.SlabLayout.PAGE_SIZE || (traced & Gfp.RETRY_MAYFAIL) != 0) return traced;
        return traced & ~(Gfp.NORETRY | Gfp.NOWARN);
    }

    /**
     * Where a request's frames hang in the profile: the trace's call chain (perf -g), outermost first, down to
     * the call site, then the call site itself; without a chain the call site alone. A kvmalloc call site is
     * left to the model, which enters kvmalloc_node (or XFS's xlog_cil_kvmalloc) itself.
     */
    private CallTree.Node rootFor(TraceEvent e, boolean modelEntersCallSite) {
        CallTree.Node root = engine.profile.root;
        String fn = e.callSiteFn != null ? e.callSiteFn : e.comm != null ? commFrames.computeIfAbsent(e.comm, c -> "[" + c + "]") : "[unknown]";
        List<String> chain = e.has(TraceEvent.F_STACK_ID) ? stacks.get(e.stackId) : null;
        if (chain == null || chain.isEmpty()) return root.child(fn);
        // Innermost first: frames inside the call site (the allocator's own) are the model's to produce.
        int site = e.callSiteFn == null ? -1 : chain.indexOf(e.callSiteFn);
        for (int i = chain.size() - 1; i > site; i--) root = root.child(chain.get(i));
        return modelEntersCallSite ? root : root.child(fn);
    }

    static final long FAIL = -1, UNKNOWN = -2;

    /** The request itself; returns bytes allocated (allocations), 0 (frees), FAIL or UNKNOWN. */
    private long request(ReplayContext ctx, TraceEvent e, RequestKind kind) {
        long g = e.has(TraceEvent.F_GFP_FLAGS) ? gfp.toModel(e.gfpFlags) : Gfp.GFP_KERNEL;
        // 5.10's GFP_ATOMIC carried __GFP_ATOMIC (ALLOC_HARDER); a newer trace spells it HIGH without reclaim.
        if (!cfg.era().atLeast(org.kmemlab.alloc.core.KernelEra.ENOW) && (g & Gfp.HIGH) != 0 && (g & Gfp.DIRECT_RECLAIM) == 0) {
            g |= Gfp.ATOMIC;
        }
        ctx.requestGfp(g);
        SlubAllocator slab = upper.slab;
        switch (kind) {
            case KMALLOC -> {
                untracedFree(ctx, e.ptr);
                long size = Math.max(1, e.bytesReq);
                long addr;
                int route;
                if (e.callSiteFn != null && kvmallocSites.contains(e.callSiteFn)) {
                    ctx.scope = upper.kvmallocScopeClearMask();
                    addr = upper.kvmalloc.kvmalloc(ctx, size, kvmallocCallerFlags(g, size));
                    route = ROUTE_KVMALLOC;
                } else {
                    addr = slab.kmalloc(ctx, size, g);
                    route = ROUTE_KMALLOC;
                }
                if (addr == 0) return FAIL;
                remember(e.ptr, addr, route, 0, ctx.task, null);
                return route == ROUTE_KMALLOC ? slab.ksize(addr) : size;
            }
            case CACHE_ALLOC -> {
                untracedFree(ctx, e.ptr);
                if (e.cache != null && splSizes.containsKey(e.cache)) {
                    org.kmemlab.alloc.spl.SplCache sc = spl(e);
                    long addr = sc.alloc(ctx, g);
                    if (addr == 0) return FAIL;
                    if (sc.isEmergency(addr)) seed.lastFallback = SPL_EMERGENCY;
                    remember(e.ptr, addr, ROUTE_SPL, 0, ctx.task, sc);
                    return e.has(TraceEvent.F_BYTES_ALLOC) ? e.bytesAlloc : e.bytesReq;
                }
                SlubCache c = cacheFor(ctx, e);
                Mempool pool = mempoolCaches.contains(c.name) ? pool(ctx, c) : null;
                long addr = pool != null ? pool.alloc(ctx, g) : c.alloc(ctx, g);
                if (addr == 0) return FAIL;
                if (pool != null) {
                    remember(e.ptr, addr, ROUTE_MEMPOOL, poolIndex.get(c.name), ctx.task, c);
                    engine.hold(pool.waitQueue, ctx.task, 1);
                } else {
                    remember(e.ptr, addr, ROUTE_CACHE, 0, ctx.task, c);
                }
                return c.size;
            }
            case KFREE, CACHE_FREE -> {
                if (e.ptr == 0) return 0;
                int slot = live.find(e.ptr);
                if (slot < 0) {
                    untracedAlloc(ctx, e);
                    slot = live.find(e.ptr);
                    if (slot < 0) return UNKNOWN;
                }
                freeLive(ctx, e.ptr, slot);
                return 0;
            }
            case PAGE_ALLOC -> {
                int order = Math.max(0, e.order);
                long pfn = pages.allocPages(ctx, order, g);
                if (pfn < 0) return FAIL;
                if (e.has(TraceEvent.F_PFN)) {
                    // a pfn the trace allocates twice without a free (counted by Anomalies): the first page
                    // stays allocated, but is no longer the trace's to follow
                    long prev = pageMap.put(e.pfn, (pfn << 8) | order);
                    if (prev != 0 && !pageOwner.isEmpty()) pageOwner.remove(prev >>> 8);
                    if (opts.tracedPagesOnLru()) adoptTracedPage(e.pfn, pfn, g);
                }
                return 0;
            }
            case PAGE_FREE -> {
                int slot = e.has(TraceEvent.F_PFN) ? pageMap.indexOf(e.pfn) : -1;
                if (slot < 0 && e.has(TraceEvent.F_PFN)) {
                    if (reclaimedTracePages.remove(e.pfn)) {
                        sum.freesOfReclaimedPages++;
                        return 0;
                    }
                    untracedPage(ctx, e);
                    slot = pageMap.indexOf(e.pfn);
                }
                if (slot < 0) return UNKNOWN;
                long v = pageMap.indexGet(slot);
                pageMap.indexRemove(slot);
                if (!pageOwner.isEmpty()) pageOwner.remove(v >>> 8);
                pages.freePages(ctx, v >>> 8, (int) (v & 0xff));
                return 0;
            }
            case KFREE_RCU -> {
                long ptr = SeedRequests.rcuObject(e);
                if (ptr == 0) return 0;
                long addr = takeForRcu(ctx, e, ptr);
                if (addr == 0) return UNKNOWN;
                seed.kfreeRcu(ctx, e, addr);
                return 0;
            }
            case CGROUP_MKDIR -> { return seed.cgroupMkdir(ctx, e); }
            case CGROUP_RMDIR -> { return seed.cgroupRmdir(ctx, e); }
            case CACHE_CREATE -> { return seed.cacheCreate(ctx, e); }
            case CACHE_DESTROY -> { return seed.cacheDestroy(ctx, e); }
            case CPU_WORK -> { return seed.cpuWork(ctx, e); }
            default -> throw new IllegalStateException(kind.name());
        }
    }

    /** Frees the live object in {@code slot} (trace pointer {@code ptr}) the way it was allocated. */
    private void freeLive(ReplayContext ctx, long ptr, int slot) {
        long addr = live.address(slot);
        long meta = live.meta(slot);
        Object freer = live.owner(slot);
        live.remove(ptr, slot);
        int route = (int) (meta & 0xff);
        switch (route) {
            case ROUTE_SPL -> {
                org.kmemlab.alloc.spl.SplCache sc = (org.kmemlab.alloc.spl.SplCache) freer;
                // marked so that SQL can set the cost of spl_emergency_free() against the live emergency count
                if (sc.isEmergency(addr)) seed.lastFallback = SPL_EMERGENCY;
                sc.free(ctx, addr);
            }
            case ROUTE_KVMALLOC -> upper.kvmalloc.kvfree(ctx, addr);
            case ROUTE_MEMPOOL -> {
                Mempool pool = poolList.get((int) ((meta >>> 8) & 0xff));
                long owner = meta >>> 16;
                pool.free(ctx, addr);
                engine.hold(pool.waitQueue, owner, -1);
            }
            case ROUTE_CACHE -> {
                if (freer != null) ((SlubCache) freer).free(ctx, addr); else upper.slab.kfree(ctx, addr);
            }
            default -> upper.slab.kfree(ctx, addr);
        }
    }

    /**
     * The trace allocates at a pointer it still holds: the kernel freed the object where no tracepoint fired.
     * 6.18's slab sheaves free kfree_rcu()'d objects in bulk after the grace period (rcu_free_sheaf(), as
     * maple_node's are), and kmem_cache_free_bulk() and kfree_bulk() trace no object at all. Free it now, off
     * the books like {@link #untracedAlloc}: the latest moment it can have happened, since SLUB's freelists and
     * sheaves hand a freed object out again first. Without this the model would keep every such object.
     */
    private void untracedFree(ReplayContext ctx, long ptr) {
        int slot = ptr == 0 ? -1 : live.find(ptr);
        if (slot < 0) return;
        offTheBooks(ctx, () -> {
            freeLive(ctx, ptr, slot);
            return 0;
        });
        sum.untracedFrees++;
    }

    /**
     * Runs {@code work} (an allocation or free the trace did not record) under "[initial state]" in the profile,
     * without advancing the request's clock or marking its fallback: it is not the request's own cost. Returns
     * what {@code work} returns.
     */
    private long offTheBooks(ReplayContext ctx, java.util.function.LongSupplier work) {
        CallTree.Node saved = ctx.node();
        int savedDepth = ctx.depth();
        String fallback = seed.lastFallback;
        ctx.unwindTo(engine.profile.root.child(INITIAL));
        long now = ctx.now;
        long r = work.getAsLong();
        ctx.now = now;
        ctx.restore(saved, savedDepth);
        seed.lastFallback = fallback;
        return r;
    }

    /**
     * Hands the object behind trace pointer {@code ptr} over to kfree_rcu: it leaves the replay's books (the
     * model frees it after a grace period, and the trace's later kfree of it is derived). Returns the model's
     * address, or 0 when the object is not one kvfree_call_rcu can take (an SPL or mempool element).
     */
    private long takeForRcu(ReplayContext ctx, TraceEvent e, long ptr) {
        int slot = live.find(ptr);
        if (slot < 0) {
            TraceEvent f = new TraceEvent();
            f.copyFrom(e);
            f.ptr(ptr);
            f.cache = null;
            untracedAlloc(ctx, f);
            slot = live.find(ptr);
            if (slot < 0) return 0;
        }
        int route = (int) (live.meta(slot) & 0xff);
        if (route != ROUTE_KMALLOC && route != ROUTE_KVMALLOC && route != ROUTE_CACHE) return 0;
        long addr = live.address(slot);
        live.remove(ptr, slot);
        return addr;
    }

    /**
     * The trace frees an object it never allocated, after the start (a second free of a pointer: its
     * allocation went untraced, e.g. through a bulk or early path). Create it just before its free, off
     * the books: its cost is charged under "[untraced alloc]" and it is counted, not replayed.
     */
    private void untracedAlloc(ReplayContext ctx, TraceEvent e) {
        SlubCache c = e.cache != null ? upper.slab.cache(e.cache) : null;
        long addr = offTheBooks(ctx, () -> c != null ? c.alloc(ctx, Gfp.GFP_KERNEL) : upper.slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL));
        if (addr != 0) {
            remember(e.ptr, addr, c != null ? ROUTE_CACHE : ROUTE_KMALLOC, 0, ctx.task, c);
            sum.untracedAllocs++;
        }
    }

    /**
     * The trace's movable pages are user memory, as the kernel's own gfp masks say: anonymous folios come
     * zeroed ({@code vma_alloc_zeroed_movable_folio()}: GFP_HIGHUSER_MOVABLE | __GFP_ZERO), page cache does
     * not ({@code filemap_alloc_folio()} with the mapping's mask, __GFP_WRITE when allocated for a write).
     * Page cache goes on the model's file LRU, dirty when written, so that reclaim can free it on a machine
     * with less memory than the recording's; anonymous memory is movable but not reclaimable (no swap).
     */
    private void adoptTracedPage(long tracePfn, long pfn, long g) {
        if ((g & Gfp.MOVABLE) == 0) return;
        if ((g & Gfp.ZERO) != 0) pages.vmscan().adoptAnon(pfn);
        else pages.vmscan().adoptPageCache(pfn, (g & Gfp.WRITE) != 0);
        pageOwner.put(pfn, tracePfn);
    }

    private static final long NOT_FOLLOWED = Long.MIN_VALUE;

    /**
     * Drops the model page at {@code pfn} from {@link #pageOwner}; returns the trace pfn that still maps to it,
     * or {@link #NOT_FOLLOWED} for the model's own pages and for a pfn the trace has since put another page at.
     */
    private long stopFollowing(long pfn) {
        int slot = pageOwner.indexOf(pfn);
        if (slot < 0) return NOT_FOLLOWED;
        long tracePfn = pageOwner.indexGet(slot);
        pageOwner.indexRemove(slot);
        return pageMap.get(tracePfn) >>> 8 == pfn ? tracePfn : NOT_FOLLOWED;
    }

    private void untracedPage(ReplayContext ctx, TraceEvent e) {
        int order = Math.max(0, e.order);
        long pfn = offTheBooks(ctx, () -> pages.allocPages(ctx, order, Gfp.GFP_KERNEL));
        if (pfn >= 0) {
            pageMap.put(e.pfn, (pfn << 8) | order);
            sum.untracedAllocs++;
        }
    }

    /** {@code owner}: the SlubCache (cache and mempool routes) or SplCache (SPL) that frees the object. */
    private void remember(long tracePtr, long addr, int route, int pool, long task, Object owner) {
        live.put(tracePtr, addr, route | ((long) pool << 8) | (task << 16), owner);
    }

    private SlubCache cacheFor(ReplayContext ctx, TraceEvent e) {
        String name = e.cache;
        if (name == null) name = resolver.resolve(null, e.bytesReq, e.bytesAlloc).name();
        SlubCache c = upper.slab.cache(name);
        if (c == null) {
            // A cache the snapshot did not list (created during the trace): as big as the trace says.
            int size = (int) Math.max(8, e.has(TraceEvent.F_BYTES_ALLOC) ? e.bytesAlloc : e.bytesReq);
            c = upper.slab.createCacheWithSize(name, size, seed.flagsFor(name));
        }
        return c;
    }

    /** An SPL cache for a cache name listed in replay.splCaches (name:objsize), created on first use. */
    private org.kmemlab.alloc.spl.SplCache spl(TraceEvent e) {
        return splCaches.computeIfAbsent(e.cache, n -> {
            int size = splSizes.get(n);
            if (size <= 0) size = (int) Math.max(8, e.has(TraceEvent.F_BYTES_ALLOC) ? e.bytesAlloc : e.bytesReq);
            return upper.createSplCache(n, size, 0);
        });
    }

    private Mempool pool(ReplayContext ctx, SlubCache c) {
        Mempool p = pools.get(c.name);
        if (p == null) {
            p = upper.createMempool(ctx, c.name + "_pool", c);
            pools.put(c.name, p);
            poolIndex.put(c.name, poolList.size());
            poolList.add(p);
            engine.registerResource(p.waitQueue, c.name + "_pool");
        }
        return p;
    }

    // ---- initial state: what existed before the recording ----

    private void initialState(PrePass pre) {
        ReplayContext ctx = engine.context(0);
        CallTree.Node root = engine.profile.root.child(INITIAL);
        SlabPlan plan = slabLines != null && opts.populateSlabs() ? populateSlabs(ctx, root, pre) : new SlabPlan();
        for (PrePass.Obj o : pre.objects) {
            SlabPlan.Slot b = plan.bound.get(o.ptr());
            if (b != null) {
                // in the slab of the model's that stands for the object's own (see populateSlabs)
                boolean kmalloc = o.cache() == null;
                remember(o.ptr(), b.addr(), kmalloc ? ROUTE_KMALLOC : ROUTE_CACHE, 0, 0, kmalloc ? null : b.cache());
                sum.preexistingObjects++;
                continue;
            }
            ctx.begin(0, 0, root);
            TraceEvent e = new TraceEvent();
            e.event = o.cache() != null ? EventNames.KMEM_CACHE_ALLOC : EventNames.KMALLOC;
            e.cache = o.cache();
            e.ptr(o.ptr()).bytesReq(o.bytes()).bytesAlloc(o.bytes()).gfpFlags(0).cpu(0).pid(0);
            e.gfpFlags = 0;
            e.present &= ~TraceEvent.F_GFP_FLAGS;
            if (o.gfp() >= 0) e.gfpFlags(o.gfp());
            try {
                request(ctx, e, e.cache != null ? RequestKind.CACHE_ALLOC : RequestKind.KMALLOC);
                sum.preexistingObjects++;
            } catch (Park p) {
                ctx.unwindTo(root);
            }
        }
        if (!plan.caches.isEmpty()) {
            // Each proven slab goes to the CPU that used it first, as the kernel had it. CPU 0's cpu slab and partial
            // list, where populating left the slabs, go to the node; each CPU's first slab becomes its cpu slab;
            // then a free into one of its other slabs, full until now, puts that slab on its partial list
            // (put_cpu_partial()). Left on CPU 0, or on the node's list where the first CPU to allocate takes
            // several, the slots are out of the other CPUs' reach, and their first allocations grow the cache
            // where the kernel's did not.
            ctx.begin(0, 0, root);
            for (SlubCache c : plan.caches) c.flushAll(ctx);
            for (SlabPlan.Slot s : plan.cpuSlabs) s.cache().setCpuSlab(ctx, s.cpu(), s.addr());
            for (SlabPlan.Slot s : plan.free) {
                ReplayContext cx = engine.context(s.cpu());
                cx.begin(0, 0, root);
                s.cache().free(cx, s.addr());
            }
        }
        for (long[] pg : pre.pages) {
            ctx.begin(0, 0, root);
            long pfn = pages.allocPages(ctx, (int) pg[1], pg[2] != 0 ? Gfp.GFP_HIGHUSER_MOVABLE : Gfp.GFP_KERNEL);
            if (pfn >= 0) {
                pageMap.put(pg[0], (pfn << 8) | pg[1]);
                sum.preexistingPages++;
            }
        }
        // What the pcp lists held when the recording began, as the trace shows it, after the allocations above
        // (which took from CPU 0's lists). A snapshot's pcp counts are of its own moment: for the shared traces'
        // snapshot, CPU 1 held 19,031 pages where tar shows about 3,800 in use before its first refill.
        if (opts.pcpStart().equals("trace") && pre.pcpEvidence()) {
            ctx.begin(0, 0, root);
            pages.setPcpLists(ctx, pre::pcpBlocksAtStart);
        }
        for (int c = 0; c < engine.nrCpus(); c++) engine.cpuFree[c] = 0;
        // Slabs made for the initial state are not the trace's: the fidelity report counts from here.
        for (SlubCache c : upper.slab.caches().values()) slabPagesAtStart.put(c.name, c.statAllocSlab * c.pagesPerSlab());
        largeKmallocPagesAtStart = upper.slab.largeKmallocPagesAllocated();
    }

    /**
     * How the proven slabs are set up once the pre-existing objects are placed: the objects bound to addresses of
     * the model's slabs, the slabs that become CPUs' cpu slabs, and the proven free slots with the CPU that frees
     * each.
     */
    private static final class SlabPlan {
        /** An object address of the model's in {@code cache}, and the CPU it is for. */
        record Slot(SlubCache cache, int cpu, long addr) {}

        final java.util.Set<SlubCache> caches = new java.util.LinkedHashSet<>();
        /** Trace pointer of a pre-existing object to its address. */
        final com.carrotsearch.hppc.LongObjectHashMap<Slot> bound = new com.carrotsearch.hppc.LongObjectHashMap<>();
        /** An address in each CPU's first slab, per cache. */
        final List<Slot> cpuSlabs = new ArrayList<>();
        /** The proven free slots, each with the CPU that frees it. */
        final List<Slot> free = new ArrayList<>();
    }

    /**
     * The snapshot's slabs: per cache, its objects in use less those the trace itself frees (created next), and
     * free slots as the trace proves them ({@code replay.slabStart=trace}, {@link SlabStart}) or else as the
     * snapshot counts them ({@code num_objs - active_objs}, chosen at random with the replay's seed, so that slabs
     * are partially filled as on a running machine). The pages come from the snapshot's free memory, which
     * therefore shrinks by the slab footprint (the model cannot turn the snapshot's used pages into slabs).
     *
     * <p>From the proof, each pre-existing slab the trace touched has a slab of the model's standing for it, at
     * random with the seed: the pre-existing objects the trace frees there take addresses in it, and it keeps
     * exactly the proven free slots, which are freed only after the other pre-existing objects are in place (they
     * would take them first). The rest of the cache is full.
     */
    private SlabPlan populateSlabs(ReplayContext ctx, CallTree.Node root, PrePass pre) {
        SlabPlan plan = new SlabPlan();
        Map<String, Long> traceOwned = new HashMap<>();
        for (PrePass.Obj o : pre.objects) {
            SlubCache c = initialCache(o);
            if (c != null) traceOwned.merge(c.name, 1L, Long::sum);
        }
        Map<String, List<SlabStart.Slab>> proven = provingSlabStart(pre) ? provenSlabs(pre) : null;
        java.util.Random rng = new java.util.Random(opts.seed());
        for (SlabInfo.Line l : slabLines) {
            SlubCache c = upper.slab.cache(l.name());
            if (c == null || l.numObjs() == 0) continue;
            long owned = traceOwned.getOrDefault(l.name(), 0L);
            List<SlabStart.Slab> slabs = proven == null ? null : proven.getOrDefault(l.name(), List.of());
            int total;
            if (slabs != null) {
                long free = 0;
                for (SlabStart.Slab p : slabs) free += Math.min(p.free(), c.objsPerSlab);
                long per = c.objsPerSlab;
                long slots = Math.max(l.activeObjs(), owned) + free;
                // one slab of the model's for each proven one; the last slab's spare slots count as in use
                total = (int) Math.min(Math.max((slots + per - 1) / per, slabs.size()) * per, 1_000_000);
            } else {
                total = (int) Math.min(l.numObjs(), 1_000_000);
            }
            long[] a = new long[total];
            int k = 0;
            ctx.begin(0, 0, root);
            for (int i = 0; i < total; i++) {
                long x = c.alloc(ctx, Gfp.GFP_KERNEL);
                if (x == 0) break;
                a[k++] = x;
            }
            long bound = 0;
            if (slabs != null && !slabs.isEmpty()) {
                int boundBefore = plan.bound.size();
                LongHashSet taken = standIn(c, slabs, a, k, rng, plan);
                bound = plan.bound.size() - boundBefore;
                int m = 0;
                for (int i = 0; i < k; i++) if (!taken.contains(a[i])) a[m++] = a[i];
                k = m;
            }
            for (int i = k - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                long t = a[i];
                a[i] = a[j];
                a[j] = t;
            }
            // slots for the pre-existing objects not bound above (and, from the snapshot, its free ones)
            long active = slabs != null ? Math.max(0, k - (owned - bound))
                    : Math.max(0, Math.min(total, l.activeObjs() - owned));
            for (int i = 0; i < k - active; i++) c.free(ctx, a[i]);
            sum.populatedObjects += Math.min(active, k);
        }
        return plan;
    }

    /**
     * Picks a slab of the model's for each proven slab of {@code c} and plans it: returns the addresses it took, for
     * pre-existing objects or as proven free slots. The model's slabs are all full here, as populating left them.
     */
    private LongHashSet standIn(SlubCache c, List<SlabStart.Slab> proven, long[] a, int k, java.util.Random rng, SlabPlan plan) {
        Map<org.kmemlab.alloc.slab.Slab, com.carrotsearch.hppc.LongArrayList> bySlab = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) bySlab.computeIfAbsent(upper.slab.slabOf(a[i]), x -> new com.carrotsearch.hppc.LongArrayList()).add(a[i]);
        List<com.carrotsearch.hppc.LongArrayList> mine = new ArrayList<>(bySlab.values());
        java.util.Collections.shuffle(mine, rng);
        plan.caches.add(c);
        LongHashSet taken = new LongHashSet();
        com.carrotsearch.hppc.IntHashSet withCpuSlab = new com.carrotsearch.hppc.IntHashSet();
        List<SlabStart.Slab> byFirstUse = new ArrayList<>(proven);
        byFirstUse.sort(java.util.Comparator.comparingInt(SlabStart.Slab::first));
        Map<SlabStart.Slab, com.carrotsearch.hppc.LongArrayList> standsFor = new java.util.IdentityHashMap<>();
        for (int j = 0; j < proven.size() && j < mine.size(); j++) standsFor.put(proven.get(j), mine.get(j));
        for (SlabStart.Slab p : byFirstUse) {
            com.carrotsearch.hppc.LongArrayList objs = standsFor.get(p);
            if (objs == null) continue;
            int cpu = Math.floorMod(p.cpu(), engine.nrCpus());
            int next = 0;
            for (long ptr : p.preexisting()) {
                if (next >= objs.size() || plan.bound.containsKey(ptr)) continue;
                taken.add(objs.get(next));
                plan.bound.put(ptr, new SlabPlan.Slot(c, 0, objs.get(next++)));
            }
            if (withCpuSlab.add(cpu)) {
                plan.cpuSlabs.add(new SlabPlan.Slot(c, cpu, objs.get(0)));
            }
            for (int i = 0; i < p.free() && next < objs.size(); i++) {
                taken.add(objs.get(next));
                plan.free.add(new SlabPlan.Slot(c, cpu, objs.get(next++)));
            }
        }
        return taken;
    }

    private boolean provingSlabStart(PrePass pre) {
        return slabLines != null && opts.populateSlabs() && opts.slabStart().equals("trace") && !pre.slabFreeAtStart.isEmpty();
    }

    /** The model cache a pre-existing object goes to (null: a cache not created yet, or no kmalloc size). */
    private SlubCache initialCache(PrePass.Obj o) {
        return upper.slab.cache(ownerName(new SlabStart.Key(o.cache(), o.bytes(), o.gfp())));
    }

    /**
     * {@link PrePass#slabFreeAtStart} per model cache: kmalloc owners resolved as {@code kmalloc_slab()} would.
     */
    private Map<String, List<SlabStart.Slab>> provenSlabs(PrePass pre) {
        Map<String, List<SlabStart.Slab>> out = new TreeMap<>();
        pre.slabFreeAtStart.forEach((k, slabs) -> out.computeIfAbsent(ownerName(k), x -> new ArrayList<>()).addAll(slabs));
        return out;
    }

    // ---- model-produced events and the timeline ----

    private final class ModelEvents implements PageEvents {
        private final TraceEvent out = new TraceEvent();

        private void base(String name) {
            out.clear();
            ReplayContext c = engine.running;
            out.ts(t0 + (c == null ? 0 : c.now)).cpu(c == null ? 0 : c.cpu);
            // kernel threads have no pid of the trace's: pid 0 with their comm (kworker/1, kswapd0)
            if (c != null && c.task < 0) {
                out.pid(0);
                out.comm = c.comm();
            } else {
                out.pid(c == null ? 0 : (int) c.task);
            }
            out.event = name;
        }

        @Override public void pageAlloc(Zone z, long pfn, int order, long g, int mt) {
            base(EventNames.MM_PAGE_ALLOC);
            out.pfn(pfn).order(order).migratetype(mt).gfpFlags(g);
            events.accept(out);
        }

        @Override public void pageFree(long pfn, int order) {
            base(EventNames.MM_PAGE_FREE);
            out.pfn(pfn).order(order);
            events.accept(out);
        }

        @Override public void pageCacheDelete(long pfn, int order) {
            long tracePfn = stopFollowing(pfn);
            if (tracePfn == NOT_FOLLOWED) return;
            pageMap.remove(tracePfn);
            reclaimedTracePages.add(tracePfn);
            sum.tracePagesReclaimed += 1L << order;
        }

        @Override public void pageMigrated(long from, long to, int order) {
            long tracePfn = stopFollowing(from);
            if (tracePfn == NOT_FOLLOWED) return;
            pageOwner.put(to, tracePfn);
            pageMap.put(tracePfn, (to << 8) | order);
            sum.tracePagesMigrated += 1L << order;
        }

        @Override public void allocZoneLocked(Zone z, long pfn, int order, int mt, boolean refill) {
            base(EventNames.MM_PAGE_ALLOC_ZONE_LOCKED);
            out.pfn(pfn).order(order).migratetype(mt);
            out.extra = refill ? "percpu_refill=1" : "percpu_refill=0";
            events.accept(out);
        }

        @Override public void reclaimBegin(int node, int order, long g) {
            base(EventNames.VMSCAN_DIRECT_RECLAIM_BEGIN);
            out.order(order).gfpFlags(g).node(node);
            events.accept(out);
        }

        @Override public void wakeupKswapd(int node, int zoneType, int order, long g) {
            base(EventNames.VMSCAN_WAKEUP_KSWAPD);
            out.node(node).order(order).gfpFlags(g);
            out.extra = "zid=" + zoneType;
            events.accept(out);
        }

        @Override public void kswapdWake(int node, int zoneType, int order) {
            daemonEvent(EventNames.VMSCAN_KSWAPD_WAKE, node, order, "zid=" + zoneType);
        }

        @Override public void tryToCompactPages(int order, long g, int prio) {
            base(EventNames.COMPACTION_TRY_TO_COMPACT_PAGES);
            out.order(order).gfpFlags(g);
            out.extra = "prio=" + prio;
            events.accept(out);
        }

        @Override public void wakeupKcompactd(int node, int order, int highestZone) {
            daemonEvent(EventNames.COMPACTION_WAKEUP_KCOMPACTD, node, order, "highest_zoneidx=" + highestZone);
        }

        @Override public void kcompactdWake(int node, int order, int highestZone) {
            daemonEvent(EventNames.COMPACTION_KCOMPACTD_WAKE, node, order, "highest_zoneidx=" + highestZone);
        }

        /** A kswapd or kcompactd tracepoint: the node, the order and the one field the schema has no column for. */
        private void daemonEvent(String name, int node, int order, String extra) {
            base(name);
            out.node(node).order(order);
            out.extra = extra;
            events.accept(out);
        }

        @Override public void kswapdSleep(int node) {
            base(EventNames.VMSCAN_KSWAPD_SLEEP);
            out.node(node);
            events.accept(out);
        }

        @Override public void reclaimEnd(int node, boolean kswapd, long reclaimed) {
            if (kswapd) return; // kswapd's own tracepoints (mm_vmscan_kswapd_*) are not modeled
            base(EventNames.VMSCAN_DIRECT_RECLAIM_END);
            out.node(node);
            out.extra = "nr_reclaimed=" + reclaimed;
            events.accept(out);
        }

        @Override public void pcpuDrain(Zone z, long pfn, int order, int mt) {
            base(EventNames.MM_PAGE_PCPU_DRAIN);
            out.pfn(pfn).order(order).migratetype(mt);
            events.accept(out);
        }

        @Override public void extfrag(Zone z, long pfn, int allocOrder, int fallbackOrder, int allocMt, int fallbackMt,
                                      boolean changeOwnership) {
            base(EventNames.MM_PAGE_ALLOC_EXTFRAG);
            out.pfn(pfn).order(allocOrder).migratetype(allocMt);
            out.extra = "fallback_order=" + fallbackOrder + " fallback_migratetype=" + fallbackMt + " change_ownership="
                    + (changeOwnership ? 1 : 0);
            events.accept(out);
        }
    }

    private void sample(long upTo) {
        long interval = opts.timelineIntervalNs();
        if (upTo == Long.MAX_VALUE) upTo = nextSample;
        while (nextSample <= upTo) {
            // The state at the sample's time: RCU callbacks and work due by then have run (kfree_rcu's frees).
            if (engine.deadlock == null) engine.runDueUntil(nextSample, () -> false, null);
            Map<String, Double> metrics = engine.sample(pools);
            seed.sample(metrics, splCaches);
            for (Map.Entry<String, Double> m : metrics.entrySet()) {
                timeline.add(nextSample).add(m.getKey()).add(m.getValue());
                timeline.endRow();
            }
            for (SlubCache c : engine.cachesByName()) {
                long slabPages = c.nrSlabs() * c.pagesPerSlab();
                if (slabPages <= 0) continue;
                String metric = slabMetric.computeIfAbsent(c.name, n -> "slab_pages:" + n);
                timeline.add(nextSample).add(metric).add((double) slabPages);
                timeline.endRow();
            }
            nextSample += interval;
        }
    }

    private void writeProfile(Path outDir) throws IOException {
        Map<String, Long> folded = engine.profile.folded();
        StringBuilder sb = new StringBuilder();
        try (TableWriter w = new TableWriter(outDir.resolve("profile.arrow"), List.of("stack", "self_ns"),
                List.of(TableWriter.Type.STRING, TableWriter.Type.LONG), Map.of("kmemlab.policy", policy))) {
            for (Map.Entry<String, Long> e : folded.entrySet()) {
                if (e.getKey().startsWith(INITIAL)) continue;
                w.add(e.getKey()).add(e.getValue());
                w.endRow();
                sb.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
            }
        }
        Files.writeString(outDir.resolve("profile.folded"), sb.toString());
    }

    /**
     * The trace's own slab pages per cache (derived events, not replayed), with kmalloc's told apart by cache as
     * {@code kmalloc_slab()} picks it from bytes_alloc and the gfp flags, for the fidelity report.
     */
    private Map<String, Long> traceSlabPages(PrePass pre) {
        Map<String, Long> out = new TreeMap<>(pre.slabPagesByCache);
        pre.kmallocSlabPages.forEach((k, pages) -> out.merge(ownerName(k), pages, Long::sum));
        return out;
    }

    /** The model cache of a trace's slab-object owner: kmalloc's as {@code kmalloc_slab()} picks it, else kmalloc_large. */
    private String ownerName(SlabStart.Key k) {
        if (k.cache() != null) return k.cache();
        if (k.large()) return "kmalloc_large";
        return upper.slab.kmallocCaches().cacheFor(k.bytesAlloc(), k.gfp() >= 0 ? gfp.toModel(k.gfp()) : Gfp.GFP_KERNEL).name;
    }

    /**
     * The model's objects of the trace still live at the end, per cache they live in (vmalloc where kvmalloc fell
     * back, kmalloc_large where kmalloc went to the page allocator).
     */
    private Map<String, Long> liveAtEnd() {
        Map<String, Long> out = new TreeMap<>();
        live.forEachSlot(slot -> {
            Object owner = live.owner(slot);
            String name;
            if (owner instanceof SlubCache c) name = c.name;
            else if (owner instanceof org.kmemlab.alloc.spl.SplCache sc) name = sc.name;
            else {
                SlubCache c = upper.slab.cacheOf(live.address(slot));
                name = c != null ? c.name : (live.meta(slot) & 0xff) == ROUTE_KVMALLOC ? "vmalloc" : "kmalloc_large";
            }
            out.merge(name, 1L, Long::sum);
        });
        return out;
    }

    /** Where the slabs' free slots at the start came from, and what the trace proved per cache. */
    private Object slabStartSummary(PrePass pre) {
        if (slabLines == null || !opts.populateSlabs()) return "none (no slabinfo in the snapshot, or replay.populateSlabs=false)";
        if (!opts.slabStart().equals("trace")) return "snapshot (replay.slabStart=snapshot)";
        if (pre.slabFreeAtStart.isEmpty()) return "snapshot (the trace's pointers cannot be placed in slabs)";
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", "trace");
        Map<String, Object> free = new TreeMap<>();
        provenSlabs(pre).forEach((c, slabs) -> free.put(c, slabs.stream().mapToLong(SlabStart.Slab::free).sum()));
        m.put("free_slots", free);
        return m;
    }

    private Map<String, Object> summary(PrePass pre, int nrCpus) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy", policy);
        m.put("trace", trace.getFileName().toString());
        m.put("era", cfg.era().name());
        m.put("hints", new TreeMap<>(hints));
        m.put("settings", new TreeMap<>(settings));
        m.put("warnings", warnings);
        m.put("nr_cpus", nrCpus);
        m.put("events", sum.events);
        m.put("requests", sum.requests);
        m.put("derived_events", sum.derived);
        m.put("observed_events", sum.observed);
        m.put("ignored_events", sum.ignored);
        m.put("preexisting_objects", sum.preexistingObjects);
        m.put("preexisting_pages", sum.preexistingPages);
        m.put("slab_page_attribution", pre.slabPageAttribution);
        m.put("slab_start", slabStartSummary(pre));
        m.put("trace_pages_reclaimed", sum.tracePagesReclaimed);
        m.put("trace_pages_migrated", sum.tracePagesMigrated);
        m.put("frees_of_reclaimed_pages", sum.freesOfReclaimedPages);
        m.put("snapshot_slab_objects", sum.populatedObjects);
        m.put("failures", sum.failures);
        m.put("frees_without_object", sum.freesUnknown);
        m.put("untraced_allocations", sum.untracedAllocs);
        m.put("untraced_frees", sum.untracedFrees);
        m.put("parked_requests", sum.parkedRequests);
        m.put("modeled_ns", sum.modeledNs);
        m.put("delay_ns", sum.delayNs);
        m.put("max_delay_ns", sum.maxDelayNs);
        m.put("spin_ns", sum.spinNs);
        m.put("sleep_ns", sum.sleepNs);
        m.put("kvmalloc_vmalloc_fallbacks", sum.kvmallocVmalloc);
        m.put("mempool_reserve_used", sum.mempoolReserve);
        Map<String, Object> kinds = new LinkedHashMap<>();
        Map<String, long[]> byKind = new TreeMap<>();
        for (RequestKind rk : RequestKind.values()) if (sum.byKind[rk.ordinal()] != null) byKind.put(rk.label, sum.byKind[rk.ordinal()]);
        byKind.forEach((k, v) -> kinds.put(k, ordered("requests", v[0], "modeled_ns", v[1], "failures", v[2])));
        m.put("by_kind", kinds);
        Map<String, Object> locks = new LinkedHashMap<>();
        engine.lockWaits.forEach((k, v) -> locks.put(k, ordered("contended", v[0], "wait_ns", v[1])));
        m.put("lock_waits", locks);
        // Only alloc_pages_nolock (kfreeRcu.bnodeAlloc=NOLOCK) tries locks; other replays keep their summary as it was.
        if (!engine.trylockFailures.isEmpty()) {
            Map<String, Object> tl = new LinkedHashMap<>();
            engine.trylockFailures.forEach((k, v) -> tl.put(k, v[0]));
            m.put("trylock_failed", tl);
        }
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("allocstall", pages.allocstall);
        page.put("compactstall", pages.compactstall);
        page.put("pgscan_direct_throttle", pages.pgscanDirectThrottle());
        page.put("alloc_failures", pages.allocFailures);
        page.put("free_pages_end", pages.freePageCount());
        page.put("kswapd_wakeups", pages.kswapdWakeups());
        m.put("page_allocator", page);
        m.put("kthreads", engine.kthreadSummary());
        Map<String, Object> slab = new LinkedHashMap<>();
        slab.put("slab_pages_end", upper.slab.slabPages());
        Map<String, Long> bySlab = new TreeMap<>();
        for (SlubCache c : upper.slab.caches().values()) {
            long n = c.statAllocSlab * c.pagesPerSlab() - slabPagesAtStart.getOrDefault(c.name, 0L);
            if (n > 0) bySlab.put(c.name, n);
        }
        long large = upper.slab.largeKmallocPagesAllocated() - largeKmallocPagesAtStart;
        if (large > 0) bySlab.put("kmalloc_large", large);
        m.put("slab_pages_allocated_by_cache", bySlab);
        m.put("trace_slab_pages_by_cache", traceSlabPages(pre));
        m.put("live_objects_by_cache", liveAtEnd());
        Map<String, Long> traceLive = new TreeMap<>();
        pre.liveAtEnd.forEach((k, n) -> traceLive.merge(ownerName(k), n, Long::sum));
        m.put("trace_live_objects_by_cache", traceLive);
        slab.put("rcu_barriers", engine.rcuBarriers);
        slab.put("work_items", engine.workItemsRun);
        slab.put("rcu_callbacks", engine.rcuCallbacksRun);
        m.put("upper", slab);
        Map<String, Object> mp = new LinkedHashMap<>();
        pools.forEach((k, v) -> mp.put(k, ordered("min_nr", v.minNr, "reserve_end", v.currNr(), "reserve_taken", v.statReserveTaken,
                "waits", v.statWaits, "failed", v.statFailed)));
        m.put("mempools", mp);
        m.put("kfree_rcu", seed.kfreeRcuSummary());
        m.put("cgroup_mutex", seed.cgroupMutexSummary());
        Map<String, Object> life = new LinkedHashMap<>();
        life.put("kmem_cache_create", seed.cacheCreates);
        life.put("kmem_cache_destroy", seed.cacheDestroys);
        life.put("caches_destroyed", seed.cachesDestroyed);
        life.put("caches_left_busy", seed.cachesBusy);
        life.put("caches_released", upper.slab.statCachesReleased);
        life.put("slab_rcu_barriers", upper.slab.statRcuBarriers);
        life.put("pending_rcu_destroy_end", upper.slab.pendingRcuDestroy());
        m.put("cache_lifecycle", life);
        m.put("cpu_work_ns", seed.cpuWorkNs);
        Map<String, Object> sp = new LinkedHashMap<>();
        splCaches.forEach((k, v) -> sp.put(k, ordered("emergency_allocs", v.statEmergencyAllocs, "emergency_max", v.objEmergencyMax,
                "emergency_end", v.emergencyCount(), "grow_waits", v.statGrowWaits, "grow_timeouts", v.statGrowTimeouts)));
        m.put("spl_caches", sp);
        List<Map<String, Object>> stuck = new ArrayList<>();
        List<Long> ts = new ArrayList<>();
        for (var c : engine.parked) ts.add(c.key);
        java.util.Collections.sort(ts);
        for (long t : ts) {
            Engine.Parked p = engine.parked.get(t);
            stuck.add(ordered("task", t, "comm", String.valueOf(engine.taskNames.get(t)), "waits_for",
                    String.valueOf(engine.resourceNames.get(p.waitQueue)), "since_ns", p.since, "pending_events", p.pending.size()));
        }
        m.put("parked_at_end", stuck);
        m.put("watchdog", engine.watchdog.reports);
        m.put("watchdog_counts", engine.watchdog.counts);
        m.put("deadlock", engine.deadlock == null ? null : engine.deadlock.toJson());
        engine.detect.summary(m);
        return m;
    }
}
