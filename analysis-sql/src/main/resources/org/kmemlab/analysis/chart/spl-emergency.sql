-- x: virtual seconds since the trace start, series: SPL cache (policy), y: emergency objects outstanding
-- (skc_obj_emergency, the "emerg" column of /proc/spl/kmem/slab). The replay's timeline metrics spl_emergency:<cache>.
SELECT t_ns / 1e9 AS x, substr(metric, length('spl_emergency:') + 1) || ' (' || policy || ')' AS series, value AS y
FROM timeline
WHERE starts_with(metric, 'spl_emergency:')
ORDER BY series, x
