package org.kmemlab.analysis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The measurement behind TraceDb's choice of the Arrow C data interface over Parquet (numbers in VIEWS.md),
 * which also checks that both routes hold identical events.
 * Runs only when KMEMLAB_BENCH_TRACE names a trace, e.g. the imported ../shared/traces/tar.txt.zst.
 */
class LoadBenchTest {
    static final String Q_GROUP = "SELECT event, count(*), sum(bytes_alloc) FROM events GROUP BY 1";
    static final String Q_LIFE = "SELECT count(*), count(free_seq) FROM lifetimes";

    static final String Q_CHECK = "SELECT event, count(*), sum(bytes_alloc)::BIGINT, sum(ts_ns)::HUGEINT FROM events GROUP BY 1 ORDER BY 1";

    static java.util.List<String> rows(Statement st, String sql) throws Exception {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
        }
        return out;
    }

    static long time(Statement st, String sql) throws Exception {
        long t = System.nanoTime();
        try (ResultSet rs = st.executeQuery(sql)) { while (rs.next()) { } }
        return (System.nanoTime() - t) / 1_000_000;
    }

    @Test
    void cDataAgainstParquet() throws Exception {
        String p = System.getenv("KMEMLAB_BENCH_TRACE");
        Assumptions.assumeTrue(p != null && Files.exists(Path.of(p)), "KMEMLAB_BENCH_TRACE not set");
        Path trace = Path.of(p);
        Path pq = Files.createTempFile("kmemlab-bench", ".parquet");
        java.util.List<String> viaCData = null;
        for (int round = 0; round < 2; round++) {
            long t0 = System.nanoTime();
            try (TraceDb db = TraceDb.open(List.of(trace))) {
                long load = (System.nanoTime() - t0) / 1_000_000;
                try (Statement st = db.connection().createStatement()) {
                    long n;
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM events")) { rs.next(); n = rs.getLong(1); }
                    long g = time(st, Q_GROUP), l = time(st, Q_LIFE);
                    viaCData = rows(st, Q_CHECK);
                    long c0 = System.nanoTime();
                    st.execute("COPY events TO '" + pq + "' (FORMAT PARQUET, COMPRESSION ZSTD)");
                    long copy = (System.nanoTime() - c0) / 1_000_000;
                    System.out.printf("round %d: %d events; C-data load %d ms; group-by %d ms; lifetimes %d ms; COPY to Parquet %d ms (%d bytes)%n",
                            round, n, load, g, l, copy, Files.size(pq));
                }
            }
            try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement()) {
                long v0 = System.nanoTime();
                st.execute("CREATE VIEW events AS SELECT * FROM read_parquet('" + pq + "')");
                long gv = time(st, Q_GROUP);
                // both routes must hold the same events, or the timing comparison means nothing
                org.junit.jupiter.api.Assertions.assertEquals(viaCData, rows(st, Q_CHECK));
                long view = (System.nanoTime() - v0) / 1_000_000;
                st.execute("DROP VIEW events");
                long t1 = System.nanoTime();
                st.execute("CREATE TABLE events AS SELECT * FROM read_parquet('" + pq + "')");
                long tbl = (System.nanoTime() - t1) / 1_000_000;
                System.out.printf("round %d: Parquet view: first group-by %d ms; Parquet -> table load %d ms; group-by on it %d ms%n",
                        round, view, tbl, time(st, Q_GROUP));
                System.out.println("  (view group-by alone " + gv + " ms)");
            }
        }
        Files.deleteIfExists(pq);
    }
}
