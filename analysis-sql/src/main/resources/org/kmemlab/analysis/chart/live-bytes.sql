-- x: seconds since trace start, series: cache or 'total', y: live slab bytes at the end of each bucket.
-- Parameters: :bucket_ns (bucket width), :top_n (how many caches, by their peak).
-- (the call-site series, which the chart does not draw, would double the macro's work)
WITH lb AS (SELECT * FROM live_bytes_over_time(:bucket_ns) WHERE dim IN ('total', 'cache')),
top AS (SELECT key FROM lb WHERE dim = 'cache' GROUP BY key ORDER BY max(live_bytes) DESC, key LIMIT :top_n)
SELECT t_s AS x, CASE WHEN dim = 'total' THEN 'total' ELSE key END AS series, live_bytes AS y
FROM lb
WHERE dim = 'total' OR (dim = 'cache' AND key IN (SELECT key FROM top))
ORDER BY dim DESC, series, x
