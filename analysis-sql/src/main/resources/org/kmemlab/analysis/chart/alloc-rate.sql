-- x: seconds since trace start, series: allocation event, y: events per second in each bucket (zero-filled).
-- Parameters: :bucket_ns.
WITH s AS (SELECT min(ts_ns) AS t0, max(ts_ns) AS t1 FROM events),
b AS (SELECT unnest(range(0, (t1 - t0) // :bucket_ns + 1)) AS b FROM s),
ev AS (SELECT DISTINCT event FROM allocs),
c AS (SELECT event, (ts_ns - t0) // :bucket_ns AS b, count(*) AS n FROM allocs, s GROUP BY ALL)
SELECT b.b * :bucket_ns / 1e9 AS x, ev.event AS series, coalesce(c.n, 0) * 1e9 / :bucket_ns AS y
FROM b CROSS JOIN ev LEFT JOIN c ON c.b = b.b AND c.event = ev.event
ORDER BY series, x
