-- x: virtual seconds since the trace start, series: mempool (policy), y: elements in its reserve
-- (mempool_t.curr_nr; min_nr when full). The replay's timeline metrics mempool_reserve:<pool>.
SELECT t_ns / 1e9 AS x, substr(metric, length('mempool_reserve:') + 1) || ' (' || policy || ')' AS series, value AS y
FROM timeline
WHERE starts_with(metric, 'mempool_reserve:')
ORDER BY series, x
