-- x: virtual seconds since the trace start, series: requested order, y: the kernel's fragmentation index
-- (__fragmentation_index() / 1000: -1 = a free block of that order exists; towards 0 an allocation would
-- fail for lack of memory, towards 1 for fragmentation). View timeline_fragmentation; one chart per policy.
-- Parameters: :policy.
SELECT t_ns / 1e9 AS x, 'order ' || "order" AS series, extfrag_index AS y
FROM timeline_fragmentation
WHERE policy = :policy AND "order" BETWEEN 2 AND 9
ORDER BY "order", x
