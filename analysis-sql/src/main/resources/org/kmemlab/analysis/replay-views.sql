-- Views over the replay tables (TraceDb.attachReplay loads them once `timeline` exists; VIEWS.md).

-- The fragmentation index over the replay's virtual time, per policy and requested order, from the
-- timeline's free_blocks_order_N samples with the kernel's formula (extfrag_index in views.sql).
-- The model samples nr_free summed over all its zones, where the kernel computes one index per zone:
-- this is the index of the machine's free lists taken as one zone.
CREATE OR REPLACE VIEW timeline_fragmentation AS
WITH b AS (
    SELECT policy, t_ns, CAST(substr(metric, length('free_blocks_order_') + 1) AS INTEGER) AS o, value::BIGINT AS n
    FROM timeline WHERE starts_with(metric, 'free_blocks_order_')
), z AS (
    SELECT policy, t_ns, list(n ORDER BY o) AS nr_free FROM b GROUP BY policy, t_ns
)
SELECT policy, t_ns, o AS "order", extfrag_index(nr_free, o) AS index_milli,
       extfrag_index(nr_free, o) / 1000.0 AS extfrag_index
FROM z, (SELECT unnest(range(0, 11)) AS o) orders
WHERE o < len(nr_free);
