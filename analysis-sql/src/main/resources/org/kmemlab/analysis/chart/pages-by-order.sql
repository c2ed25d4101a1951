-- x: 'order N', series: migratetype name, y: page allocations.
SELECT 'order ' || "order" AS x, coalesce(migratetype_name, '?') AS series, sum(allocs) AS y
FROM pages_by_order_migratetype_gfp
GROUP BY "order", series
ORDER BY "order", series
