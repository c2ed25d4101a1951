-- x: lifetime decade label (log10 buckets of nanoseconds), series: cache, y: freed objects.
-- Parameters: :top_n (caches with most freed objects).
WITH l AS (SELECT cache, lifetime_ns FROM lifetimes_core WHERE kind = 'slab' AND lifetime_ns IS NOT NULL),
top AS (SELECT cache FROM l GROUP BY cache ORDER BY count(*) DESC, cache LIMIT :top_n),
h AS (SELECT floor(log10(greatest(lifetime_ns, 1)))::INT AS decade, cache, count(*) AS n
      FROM l WHERE cache IN (SELECT cache FROM top) GROUP BY ALL),
d AS (SELECT unnest(range(min(decade), max(decade) + 1)) AS decade FROM h),
c AS (SELECT DISTINCT cache FROM h)
SELECT ns_decade_label(d.decade) AS x, c.cache AS series, coalesce(h.n, 0) AS y
FROM d CROSS JOIN c LEFT JOIN h ON h.decade = d.decade AND h.cache = c.cache
ORDER BY d.decade, series
