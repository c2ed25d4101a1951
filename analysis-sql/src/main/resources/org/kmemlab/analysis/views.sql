-- kmemlab's named views and macros over the table `events` (one row per trace event, analysis-sql/VIEWS.md).
-- Loaded by TraceDb when a session opens. Statements end with ';' at the end of a line.
-- Views, not tables: they cost nothing until queried, and always reflect every trace loaded.

-- perf kmem / KmemStat naming for a slab object whose cache the tracepoint does not name (modern kmalloc).
CREATE OR REPLACE MACRO kmalloc_cache_name(b) AS
    CASE WHEN b IS NULL THEN NULL
         WHEN b > 8192 THEN 'kmalloc_large'
         WHEN b >= 1024 AND b % 1024 = 0 THEN 'kmalloc-' || (b // 1024) || 'k'
         ELSE 'kmalloc-' || b END;

-- enum migratetype of include/linux/mmzone.h since 4.x (MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES = 3).
CREATE OR REPLACE MACRO migratetype_name(m) AS
    CASE m WHEN 0 THEN 'Unmovable' WHEN 1 THEN 'Movable' WHEN 2 THEN 'Reclaimable'
           WHEN 3 THEN 'HighAtomic' WHEN 4 THEN 'CMA' WHEN 5 THEN 'Isolate'
           ELSE CASE WHEN m IS NULL THEN NULL ELSE 'type-' || m END END;

-- Every allocation: slab objects (kmalloc, kmem_cache_alloc) keyed by ptr and pages (mm_page_alloc) keyed by pfn.
-- seq is the event's position in the session (column seq), the tie-breaker for equal timestamps.
CREATE OR REPLACE VIEW allocs AS
SELECT e.seq, trace, ts_ns, cpu, pid, tid, comm, event,
       CASE WHEN event = 'kmem:mm_page_alloc' THEN 'page' ELSE 'slab' END AS kind,
       CASE WHEN event = 'kmem:mm_page_alloc' THEN pfn ELSE ptr END AS addr,
       call_site, call_site_fn, ptr, pfn, "order", migratetype, gfp, gfp_flags, node, context, stack_id,
       bytes_req,
       CASE WHEN event = 'kmem:mm_page_alloc' THEN (4096::BIGINT << coalesce("order", 0)) ELSE bytes_alloc END AS bytes_alloc,
       CASE WHEN event = 'kmem:mm_page_alloc' THEN NULL ELSE coalesce(cache, kmalloc_cache_name(bytes_alloc)) END AS cache,
       cache AS traced_cache
FROM events e
WHERE event IN ('kmem:kmalloc', 'kmem:kmem_cache_alloc', 'kmem:mm_page_alloc');

-- Every free: slab (kfree, kmem_cache_free) by ptr, pages (mm_page_free, mm_page_free_batched) by pfn.
CREATE OR REPLACE VIEW frees AS
SELECT e.seq, trace, ts_ns, cpu, pid, tid, comm, event,
       CASE WHEN event IN ('kmem:mm_page_free', 'kmem:mm_page_free_batched') THEN 'page' ELSE 'slab' END AS kind,
       CASE WHEN event IN ('kmem:mm_page_free', 'kmem:mm_page_free_batched') THEN pfn ELSE ptr END AS addr,
       call_site, call_site_fn, ptr, pfn, "order", context, stack_id,
       CASE WHEN event IN ('kmem:mm_page_free', 'kmem:mm_page_free_batched') THEN (4096::BIGINT << coalesce("order", 0)) END AS bytes,
       cache
FROM events e
WHERE event IN ('kmem:kfree', 'kmem:kmem_cache_free', 'kmem:mm_page_free', 'kmem:mm_page_free_batched');

-- Each allocation paired with its free: alloc_seq, free_seq, and the free's ts_ns, cpu and cache. A free
-- matches the most recent earlier allocation of the same (trace, kind, addr) that is not yet freed: a stack
-- per address.
-- Most addresses alternate alloc, free, alloc, free (perhaps starting with a free of an object older than
-- the trace); there the stack reduces to "a free pairs with the alloc just before it", found with one
-- sorted window (lag). Addresses with two allocs or two frees in a row (a free or an alloc that was not
-- traced) take the general path on their events only: the clamped running depth (prefix sum of +1/-1
-- minus its running minimum below zero) gives every alloc the stack level it pushes and every free the
-- level it pops (0 = nothing to pop, an unmatched free), and an ASOF join pairs a free with the latest
-- earlier alloc pushed at the same level. All set-based, so it scales with DuckDB rather than a Java loop.
-- Failed slab allocations (ptr 0) and events without an address are never paired.
CREATE OR REPLACE VIEW lifetime_pairs_sql AS
WITH ev AS (
    SELECT trace, kind, addr, ts_ns, seq, 1 AS d FROM allocs
    WHERE addr IS NOT NULL AND NOT (kind = 'slab' AND addr = 0)
    UNION ALL
    SELECT trace, kind, addr, ts_ns, seq, -1 AS d FROM frees
    WHERE addr IS NOT NULL AND NOT (kind = 'slab' AND addr = 0)
), w1 AS MATERIALIZED (
    SELECT *, lag(d) OVER w AS prev_d, lag(seq) OVER w AS prev_seq FROM ev
    WINDOW w AS (PARTITION BY addr, kind, trace ORDER BY ts_ns, seq)
), odd AS MATERIALIZED (
    SELECT DISTINCT addr, kind, trace FROM w1 WHERE d = prev_d
), simple_pairs AS (
    SELECT w1.seq AS free_seq, w1.prev_seq AS alloc_seq FROM w1
    ANTI JOIN odd USING (addr, kind, trace)
    WHERE w1.d = -1 AND w1.prev_d = 1
), p AS (
    SELECT ev.*, sum(d) OVER w AS ps, row_number() OVER w AS ord
    FROM ev SEMI JOIN odd USING (addr, kind, trace)
    WINDOW w AS (PARTITION BY addr, kind, trace ORDER BY ts_ns, seq ROWS UNBOUNDED PRECEDING)
), dep AS (
    SELECT *, ps - least(0, min(ps) OVER w) AS depth FROM p
    WINDOW w AS (PARTITION BY addr, kind, trace ORDER BY ord ROWS UNBOUNDED PRECEDING)
), lv AS (
    SELECT *, CASE WHEN d = 1 THEN depth
                   ELSE coalesce(lag(depth) OVER (PARTITION BY addr, kind, trace ORDER BY ord), 0) END AS lvl
    FROM dep
), stack_pairs AS (
    SELECT f.seq AS free_seq, a.seq AS alloc_seq
    FROM (SELECT * FROM lv WHERE d = -1 AND lvl > 0) f
    ASOF JOIN (SELECT * FROM lv WHERE d = 1) a
      ON f.trace = a.trace AND f.kind = a.kind AND f.addr = a.addr AND f.lvl = a.lvl AND f.ord > a.ord
), pairs AS (
    SELECT * FROM simple_pairs UNION ALL SELECT * FROM stack_pairs
)
SELECT p.alloc_seq, p.free_seq, f.ts_ns AS free_ts_ns, f.cpu AS free_cpu, f.cache AS free_cache
FROM pairs p JOIN frees f ON f.seq = p.free_seq;

-- The pairs lifetimes read. TraceDb points this at the pairs it found in one pass while loading
-- (LifetimePairing: the same stack per address, when every trace's timestamps are in order), and back here
-- when the events change (a time window, a trace added).
CREATE OR REPLACE VIEW lifetime_pairs AS SELECT * FROM lifetime_pairs_sql;

-- lifetimes without the columns that need the events rows back (contexts, pids, comms, event names, the
-- free's call site): what the per-cache, per-call-site and per-page views read, and what the report
-- materialises once (TraceDb.materializeLifetimes points lifetimes_core at a table).
CREATE OR REPLACE VIEW lifetimes_core_sql AS
SELECT a.trace, a.kind, a.addr, a.seq AS alloc_seq, p.free_seq, a.ts_ns AS alloc_ts_ns, p.free_ts_ns,
       p.free_ts_ns - a.ts_ns AS lifetime_ns, a.cpu AS alloc_cpu, p.free_cpu,
       CASE WHEN p.free_seq IS NULL THEN NULL ELSE a.cpu IS DISTINCT FROM p.free_cpu END AS cross_cpu,
       a.call_site AS alloc_call_site, a.call_site_fn AS alloc_call_site_fn,
       a.bytes_req, a.bytes_alloc,
       -- kmem_cache_alloc names its cache only on new kernels; kmem_cache_free always does.
       CASE WHEN a.kind = 'page' THEN NULL ELSE coalesce(a.traced_cache, p.free_cache, a.cache) END AS cache,
       a."order", a.migratetype, a.gfp
FROM allocs a LEFT JOIN lifetime_pairs p ON p.alloc_seq = a.seq
-- allocations excluded from pairing are not lifetimes
WHERE a.addr IS NOT NULL AND NOT (a.kind = 'slab' AND a.addr = 0)
UNION ALL
SELECT f.trace, f.kind, f.addr, NULL, f.seq, NULL, f.ts_ns, NULL, NULL, f.cpu, NULL, NULL, NULL, NULL, f.bytes,
       CASE WHEN f.kind = 'page' THEN NULL ELSE f.cache END, NULL, NULL, NULL
FROM frees f ANTI JOIN lifetime_pairs p ON p.free_seq = f.seq;
CREATE OR REPLACE VIEW lifetimes_core AS SELECT * FROM lifetimes_core_sql;

-- Each allocation with its free (VIEWS.md): lifetimes_core with the rest of both events' columns.
CREATE OR REPLACE VIEW lifetimes AS
SELECT c.trace, c.kind, c.addr, c.alloc_seq, c.free_seq, c.alloc_ts_ns, c.free_ts_ns, c.lifetime_ns,
       c.alloc_cpu, c.free_cpu, c.cross_cpu,
       a.context AS alloc_context, f.context AS free_context,
       a.pid AS alloc_pid, f.pid AS free_pid, a.comm AS alloc_comm, f.comm AS free_comm,
       a.event AS alloc_event, f.event AS free_event,
       c.alloc_call_site, c.alloc_call_site_fn, f.call_site AS free_call_site, f.call_site_fn AS free_call_site_fn,
       c.bytes_req, c.bytes_alloc, c.cache, c."order", c.migratetype, c.gfp, a.stack_id AS alloc_stack_id
FROM lifetimes_core c
     LEFT JOIN events a ON a.seq = c.alloc_seq
     LEFT JOIN events f ON f.seq = c.free_seq;

-- Live slab bytes over time, dense: one row per bucket for the total, every cache and every call site
-- that ever holds live bytes. live_bytes is the value at the end of the bucket; it counts allocations
-- seen in the trace (an object freed but allocated before the trace started has no known size).
CREATE OR REPLACE MACRO live_bytes_over_time(bucket_ns) AS TABLE
WITH span AS (
    SELECT trace, min(ts_ns) AS t0, max(ts_ns) AS t1 FROM events GROUP BY trace
), d AS (
    SELECT d.trace, cache, call_site, (ts - t0) // bucket_ns AS b, delta FROM (
        SELECT trace, cache, coalesce(alloc_call_site, '?') AS call_site, alloc_ts_ns AS ts, bytes_alloc AS delta
        FROM lifetimes_core WHERE kind = 'slab' AND alloc_seq IS NOT NULL
        UNION ALL
        SELECT trace, cache, coalesce(alloc_call_site, '?'), free_ts_ns, -bytes_alloc
        FROM lifetimes_core WHERE kind = 'slab' AND alloc_seq IS NOT NULL AND free_seq IS NOT NULL
    ) d JOIN span USING (trace)
), per_cache AS MATERIALIZED (
    SELECT trace, coalesce(cache, '?') AS key, b, sum(delta) AS delta FROM d GROUP BY ALL
), dk AS (
    -- the total from the per-cache sums, not from the deltas again: one pass over the deltas serves both
    -- (the 10M-event benchmark's 5.7M)
    SELECT trace, 'total' AS dim, 'total' AS key, b, sum(delta) AS delta FROM per_cache GROUP BY trace, b
    UNION ALL
    SELECT trace, 'cache', key, b, delta FROM per_cache
    UNION ALL
    SELECT trace, 'call_site', call_site, b, sum(delta) FROM d GROUP BY trace, call_site, b
), sparse AS (
    SELECT trace, dim, key, b,
           sum(delta) OVER (PARTITION BY trace, dim, key ORDER BY b ROWS UNBOUNDED PRECEDING) AS live
    FROM dk
), grid AS (
    SELECT k.trace, k.dim, k.key, g.b, s.t0
    FROM (SELECT DISTINCT trace, dim, key FROM sparse) k
    JOIN (SELECT trace, t0, unnest(range(0, (t1 - t0) // bucket_ns + 1)) AS b FROM span) g USING (trace)
    JOIN span s USING (trace)
)
SELECT g.trace, g.dim, g.key, g.b AS bucket, g.t0 + g.b * bucket_ns AS bucket_start_ns,
       g.b * bucket_ns / 1e9 AS t_s, coalesce(s.live, 0)::BIGINT AS live_bytes
FROM grid g ASOF LEFT JOIN sparse s
  ON g.trace = s.trace AND g.dim = s.dim AND g.key = s.key AND g.b >= s.b
ORDER BY g.trace, g.dim, g.key, g.b;

-- perf kmem stat --caller: slab allocations per call site, with matched frees, ping-pong (freed on
-- another CPU) and what is still live at the end of the trace.
CREATE OR REPLACE VIEW by_call_site AS
SELECT trace, coalesce(alloc_call_site, '?') AS call_site, any_value(alloc_call_site_fn) AS call_site_fn,
       count(*) AS hits,
       sum(bytes_req)::BIGINT AS bytes_req, sum(bytes_alloc)::BIGINT AS bytes_alloc,
       round(sum(bytes_req) / count(*), 1) AS req_per_hit, round(sum(bytes_alloc) / count(*), 1) AS alloc_per_hit,
       CASE WHEN sum(bytes_alloc) = 0 THEN 0 ELSE round(100 - 100 * sum(bytes_req) / sum(bytes_alloc), 3) END AS frag_pct,
       count(free_seq) AS frees,
       count(*) FILTER (WHERE cross_cpu) AS pingpong,
       count(*) FILTER (WHERE free_seq IS NULL) AS live_objs,
       coalesce(sum(bytes_alloc) FILTER (WHERE free_seq IS NULL), 0)::BIGINT AS live_bytes,
       median(lifetime_ns) AS median_lifetime_ns
FROM lifetimes_core WHERE kind = 'slab' AND alloc_seq IS NOT NULL
GROUP BY trace, coalesce(alloc_call_site, '?');

-- slabinfo-like, per cache: objects allocated and freed in the trace, active objects at the end, the
-- peak of live objects (frees before allocs at equal timestamps), object size and fragmentation.
-- unmatched_frees are frees naming the cache whose allocation precedes the trace.
CREATE OR REPLACE VIEW by_cache AS
WITH l AS (
    SELECT trace, coalesce(cache, '?') AS cache, alloc_seq, free_seq, alloc_ts_ns, free_ts_ns,
           bytes_req, bytes_alloc, cross_cpu, lifetime_ns
    FROM lifetimes_core WHERE kind = 'slab'
), k AS MATERIALIZED (
    -- each (trace, cache) as a number: the window below then sorts fixed-width integer keys, not two
    -- VARCHARs (about 3x faster on the 10M-event benchmark's 5.7M deltas)
    SELECT trace, cache, row_number() OVER (ORDER BY trace, cache) AS id FROM (SELECT DISTINCT trace, cache FROM l)
), d AS MATERIALIZED (
    SELECT k.id, alloc_ts_ns AS ts, 1 AS d FROM l JOIN k USING (trace, cache) WHERE alloc_seq IS NOT NULL
    UNION ALL
    SELECT k.id, free_ts_ns, -1 FROM l JOIN k USING (trace, cache) WHERE alloc_seq IS NOT NULL AND free_seq IS NOT NULL
), base AS (
    SELECT id, coalesce(sum(sum(d)) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
    FROM d GROUP BY id
), peak AS (
    -- One running sum over all caches in (id, ts, d) order, less what the caches before this one summed
    -- to: the same as a running sum per cache, but DuckDB parallelises a window without PARTITION BY over a
    -- few large partitions better (the cache table of the 10M-event benchmark).
    SELECT k.trace, k.cache, max(run) - any_value(base) AS peak_live_objs FROM (
        SELECT id, sum(d) OVER (ORDER BY id, ts, d ROWS UNBOUNDED PRECEDING) AS run FROM d)
    JOIN base USING (id) JOIN k USING (id)
    GROUP BY k.trace, k.cache
)
SELECT l.trace, l.cache,
       count(alloc_seq) AS allocs,
       count(*) FILTER (WHERE alloc_seq IS NOT NULL AND free_seq IS NOT NULL) AS frees,
       count(*) FILTER (WHERE alloc_seq IS NULL) AS unmatched_frees,
       count(*) FILTER (WHERE alloc_seq IS NOT NULL AND free_seq IS NULL) AS active_objs,
       coalesce(sum(bytes_alloc) FILTER (WHERE alloc_seq IS NOT NULL AND free_seq IS NULL), 0)::BIGINT AS active_bytes,
       coalesce(any_value(peak.peak_live_objs), 0)::BIGINT AS peak_live_objs,
       max(bytes_alloc) FILTER (WHERE alloc_seq IS NOT NULL) AS objsize,
       coalesce(sum(bytes_req) FILTER (WHERE alloc_seq IS NOT NULL), 0)::BIGINT AS bytes_req,
       coalesce(sum(bytes_alloc) FILTER (WHERE alloc_seq IS NOT NULL), 0)::BIGINT AS bytes_alloc,
       CASE WHEN coalesce(sum(bytes_alloc) FILTER (WHERE alloc_seq IS NOT NULL), 0) = 0 THEN 0
            ELSE round(100 - 100 * sum(bytes_req) FILTER (WHERE alloc_seq IS NOT NULL)
                            / sum(bytes_alloc) FILTER (WHERE alloc_seq IS NOT NULL), 3) END AS frag_pct,
       count(*) FILTER (WHERE cross_cpu) AS cross_cpu_frees,
       median(lifetime_ns) AS median_lifetime_ns
FROM l LEFT JOIN peak USING (trace, cache)
GROUP BY l.trace, l.cache;

-- perf kmem stat --page: page allocations by order x migratetype x gfp, with how many were freed in the trace.
CREATE OR REPLACE VIEW pages_by_order_migratetype_gfp AS
SELECT trace, "order", migratetype, migratetype_name(migratetype) AS migratetype_name, gfp,
       count(*) AS allocs, sum(bytes_alloc)::BIGINT AS bytes,
       count(free_seq) AS freed, count(*) - count(free_seq) AS live
FROM lifetimes_core WHERE kind = 'page' AND alloc_seq IS NOT NULL
GROUP BY trace, "order", migratetype, gfp;

-- "1 µs–10 µs" for the decade [10^d, 10^(d+1)) nanoseconds: the lifetime histogram's buckets.
CREATE OR REPLACE MACRO ns_duration_label(e) AS
    CASE WHEN e < 3 THEN (10 ** e)::BIGINT || ' ns'
         WHEN e < 6 THEN (10 ** (e - 3))::BIGINT || ' µs'
         WHEN e < 9 THEN (10 ** (e - 6))::BIGINT || ' ms'
         ELSE (10 ** (e - 9))::BIGINT || ' s' END;
CREATE OR REPLACE MACRO ns_decade_label(d) AS ns_duration_label(d) || '–' || ns_duration_label(d + 1);

-- The kernel's fragmentation index (mm/vmstat.c __fragmentation_index()), in thousandths as the kernel
-- returns it: for an allocation of 2^req_order pages, given fill_contig_page_info()'s free_pages,
-- free_blocks_total and free_blocks_suitable of one zone. 0 when the zone has no free block; -1000 when a
-- suitable block exists (the allocation would not fail); otherwise towards 0 the failure is lack of memory,
-- towards 1000 fragmentation. Integer divisions as the kernel's div_u64; the value can drop below 0 when
-- fewer free pages than one request remain (the kernel's unsigned arithmetic cast to int gives the same).
CREATE OR REPLACE MACRO fragmentation_index(req_order, free_pages, free_blocks_total, free_blocks_suitable) AS
    CASE WHEN free_blocks_total = 0 THEN 0
         WHEN free_blocks_suitable > 0 THEN -1000
         ELSE 1000 - (1000 + (free_pages * 1000) // (1::BIGINT << req_order)) // free_blocks_total END;

-- fill_contig_page_info() over one zone's free_area[order].nr_free (a list, order 0 first, as a
-- /proc/buddyinfo line), then __fragmentation_index(): what /sys/kernel/debug/extfrag/extfrag_index
-- prints for req_order, times 1000.
CREATE OR REPLACE MACRO extfrag_index(nr_free, req_order) AS
    fragmentation_index(req_order,
        coalesce(list_sum(list_transform(range(len(nr_free)), lambda o: nr_free[o + 1]::BIGINT << o)), 0),
        coalesce(list_sum(nr_free), 0),
        coalesce(list_sum(list_transform(range(len(nr_free)),
            lambda o: CASE WHEN o >= req_order THEN nr_free[o + 1]::BIGINT << (o - req_order) ELSE 0 END)), 0));

-- The trace's /proc/buddyinfo snapshot (kmemlab import --snapshot), one row per zone: nr_free per order.
CREATE OR REPLACE VIEW buddyinfo AS
WITH l AS (
    SELECT trace, regexp_extract(line, '^Node\s+(\d+),\s*zone\s+(\S+)((\s+\d+)+)\s*$', ['node', 'zone', 'counts']) AS m
    FROM (SELECT trace, unnest(string_split(content, chr(10))) AS line FROM snapshot WHERE name = 'buddyinfo')
)
SELECT trace, m.node::INTEGER AS node, m.zone AS zone,
       list_transform(regexp_split_to_array(trim(m.counts), '\s+'), lambda x: x::BIGINT) AS nr_free
FROM l WHERE m.zone <> '';

-- The fragmentation index of every zone of the buddyinfo snapshot for every order (extfrag_index's table):
-- index_milli as the kernel computes it, extfrag_index = index_milli / 1000 as debugfs prints it.
CREATE OR REPLACE VIEW buddyinfo_extfrag AS
SELECT trace, node, zone, o AS "order", extfrag_index(nr_free, o) AS index_milli,
       extfrag_index(nr_free, o) / 1000.0 AS extfrag_index
FROM buddyinfo, (SELECT unnest(range(0, 11)) AS o) orders
WHERE o < len(nr_free);
