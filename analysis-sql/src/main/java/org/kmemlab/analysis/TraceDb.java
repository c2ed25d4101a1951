package org.kmemlab.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.kmemlab.trace.TraceReader;
import org.duckdb.DuckDBConnection;

/**
 * One DuckDB session over kmemlab traces. Each trace's event stream reaches DuckDB through the Arrow C
 * data interface without a copy in Java, and is loaded once into the table {@code events}, because a
 * registered Arrow stream serves a single query only. Several traces become one table with a
 * {@code trace} column naming the file.
 */
public final class TraceDb implements AutoCloseable {
    private final Connection conn;

    private TraceDb(Connection conn) { this.conn = conn; }

    /**
     * Sees every batch of a trace as DuckDB loads it (on the loading thread; the batch is valid only during
     * the call), then the trace's info once the load has read it all. {@link KmemStat#collector} is one.
     */
    public interface Tap extends java.util.function.Consumer<org.kmemlab.trace.TraceBatch> {
        void end(org.kmemlab.trace.TraceInfo info) throws IOException;
    }

    public static TraceDb open(List<Path> traces) throws IOException, SQLException {
        return open(traces, java.util.Map.of());
    }

    /** {@link #open(List)}, showing each trace's batches to its tap in {@code taps} (if any) while loading it. */
    public static TraceDb open(List<Path> traces, java.util.Map<Path, ? extends Tap> taps) throws IOException, SQLException {
        return open(traces, taps, defaultJavaPairing());
    }

    /** Java pairing unless {@code -Dkmemlab.lifetimes.pairing=sql}. */
    public static boolean defaultJavaPairing() { return !"sql".equals(System.getProperty("kmemlab.lifetimes.pairing")); }

    /**
     * {@link #open(List, java.util.Map)}; {@code javaPairing} pairs lifetimes in Java while loading
     * ({@link LifetimePairing}) where that gives the SQL's pairs, false keeps view {@code lifetime_pairs} on
     * its SQL ({@code -Dkmemlab.lifetimes.pairing=sql} does the same for the CLI).
     */
    public static TraceDb open(List<Path> traces, java.util.Map<Path, ? extends Tap> taps, boolean javaPairing)
            throws IOException, SQLException {
        return open(traces, taps, javaPairing, true);
    }

    /**
     * {@link #open(List, java.util.Map, boolean)}; {@code ordered} false lets table {@code events} hold the rows
     * in any order (faster): for sessions that never read {@code events} without ORDER BY, like the report.
     * Column {@code seq} gives the order either way.
     */
    public static TraceDb open(List<Path> traces, java.util.Map<Path, ? extends Tap> taps, boolean javaPairing, boolean ordered)
            throws IOException, SQLException {
        return open(traces, taps, javaPairing, ordered, Storage.of(System.getProperty("kmemlab.db.storage", "auto")));
    }

    /** {@link #open(List, java.util.Map, boolean, boolean)} with the tables kept where {@code storage} says. */
    static TraceDb open(List<Path> traces, java.util.Map<Path, ? extends Tap> taps, boolean javaPairing, boolean ordered,
                        Storage storage) throws IOException, SQLException {
        try {
            Class.forName("org.duckdb.DuckDBDriver");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        TraceDb db = new TraceDb(DriverManager.getConnection("jdbc:duckdb:"));
        try {
            if (storage.onDisk(traces)) {
                db.attachSessionFile(System.getProperty("kmemlab.db.memory", DISK_MEMORY_LIMIT));
            }
            db.execute("CREATE TABLE snapshot (trace VARCHAR, name VARCHAR, content VARCHAR)");
            boolean first = true;
            java.util.Set<Path> tapped = new java.util.HashSet<>();
            List<LifetimePairing> pairings = new java.util.ArrayList<>();
            // Two traces of one file name are one trace to the views (column trace is the name): the SQL pairs
            // across them in time order, which a pass per file does not see.
            java.util.Set<String> names = new java.util.HashSet<>();
            for (Path t : traces) if (!names.add(t.getFileName().toString())) javaPairing = false;
            // the rows may land in the table in any order (each carries its seq): DuckDB then loads on every
            // thread without reordering batches, for about 40% less CPU
            if (!ordered) db.execute("SET preserve_insertion_order = false");
            for (Path t : traces) {
                if (isKmemlabTrace(t)) {
                    LifetimePairing p = javaPairing ? new LifetimePairing(db.nextSeq) : null;
                    // a trace named twice is loaded twice, but tapped once
                    db.load(t, first, tapped.add(t) ? taps.get(t) : null, p);
                    if (p != null) pairings.add(p);
                    first = false;
                } else {
                    db.loadTable(t);
                }
            }
            if (!ordered) db.execute("SET preserve_insertion_order = true");
            // only replay files (requests.arrow, timeline.arrow, …) given: the views still need an events table
            if (first) db.createEmptyEvents();
            db.loadViews();
            if (!pairings.isEmpty()) db.useJavaPairs(pairings);
            return db;
        } catch (IOException | SQLException | RuntimeException e) {
            // a trace that fails to load leaves no session (and no native database) behind
            db.close();
            throw e;
        }
    }

    /**
     * Where a session keeps its tables. DuckDB keeps an in-memory database's tables uncompressed: 10M events
     * took 4.3 GB before the report's first query, and 5.5 GB at its peak. A database file compresses them as
     * they are loaded (the same events: 267 MB of file), and with a memory limit DuckDB keeps only what the
     * running query needs and re-reads the rest from the file, which is still in the page cache. On the
     * developers' 2-core machine, where a first touch of a page costs about 20 µs, the 10M-event report went
     * from 35 s and 5.4 GB at its peak to 22–24 s and 2.1 GB. Smaller sessions pay for the compression:
     * tar's 717K events took 3.0 s in memory and 3.4 s on disk, three copies (2.1M) 6.9–7.6 s and 8.1–8.6 s,
     * six copies (4.3M) 10.7–11.9 s and 11.1–11.7 s (with 2.5 GB against 1.6 GB). {@code auto} puts sessions
     * from there on on disk.
     */
    enum Storage {
        AUTO, MEMORY, DISK;

        static Storage of(String name) {
            for (Storage s : values()) if (s.name().equalsIgnoreCase(name)) return s;
            throw new IllegalArgumentException("kmemlab.db.storage must be auto, memory or disk, not '" + name + "'");
        }

        boolean onDisk(List<Path> traces) throws IOException {
            if (this != AUTO) return this == DISK;
            long events = 0;
            for (Path t : traces) events += eventsOf(t);
            return events >= DISK_EVENTS;
        }
    }

    /** Sessions over at least this many events keep their tables in a database file ({@link Storage#AUTO}). */
    static final long DISK_EVENTS = 4_000_000;
    /**
     * DuckDB's memory limit for a session on disk. More is not faster on the developers' machine, where fresh
     * memory is dear: 3 GB took longer than 1.5 GB, and 1 GB spilled more than it saved.
     */
    static final String DISK_MEMORY_LIMIT = "1536MB";

    /**
     * Events of a trace by its trailer; a trace without one (cut short) by its size at the compressed rate,
     * which overestimates an uncompressed one; not a trace (a replay result): none.
     */
    static long eventsOf(Path p) throws IOException {
        if (!java.nio.file.Files.isRegularFile(p) || isArrowFileFormat(p)) return 0;
        org.kmemlab.trace.TraceInfo info = TraceReader.readInfo(p);
        String n = info.meta.get("events");
        if (n != null) {
            try {
                return Long.parseLong(n);
            } catch (NumberFormatException e) {
                // a damaged trailer: the size decides, as for a cut one
            }
        }
        return isKmemlabTrace(p) ? java.nio.file.Files.size(p) / 8 : 0;
    }

    /** The folder of this session's database file, or null while its tables are in memory. */
    private Path sessionDir;
    private Thread sessionCleanup;

    /**
     * Moves the session's tables into a database file in a new temporary folder, spilling beside it, with
     * DuckDB's memory limited to {@code memoryLimit}. The folder goes when the session closes, or when the
     * JVM exits (Ctrl-C) before that.
     */
    private void attachSessionFile(String memoryLimit) throws IOException, SQLException {
        sessionDir = java.nio.file.Files.createTempDirectory("kmemlab-db-");
        Path dir = sessionDir;
        sessionCleanup = new Thread(() -> deleteTree(dir), "kmemlab-db-cleanup");
        Runtime.getRuntime().addShutdownHook(sessionCleanup);
        execute("ATTACH " + quoteLiteral(dir.resolve("session.duckdb").toString()) + " AS kmemlab_session");
        execute("USE kmemlab_session");
        execute("SET temp_directory = " + quoteLiteral(dir.resolve("spill").toString()));
        execute("SET memory_limit = " + quoteLiteral(memoryLimit));
    }

    /** Whether this session's tables are in a database file ({@link #attachSessionFile}). */
    boolean onDisk() { return sessionDir != null; }

    /** The folder of the session's database file (null in memory). */
    Path sessionDir() { return sessionDir; }

    private static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
        } catch (IOException e) {
            // what is left is in the temporary folder; the session's results are not affected
        }
    }

    /** The seq of the next event loaded: events of the session so far. */
    private long nextSeq;

    private void load(Path trace, boolean create) throws IOException, SQLException {
        load(trace, create, null, null);
    }

    private void load(Path trace, boolean create, Tap tap, LifetimePairing pairing) throws IOException, SQLException {
        if (pairing != null) {
            // the statistics' copy of each batch feeds the pairing too; without them, a copy of its own
            if (tap instanceof KmemStat.Collector c) {
                tap = c.pairing(pairing);
            } else {
                Tap pairs = new KmemStat.Collector(null).pairing(pairing);
                tap = tap == null ? pairs : both(tap, pairs);
            }
        }
        try (TraceReader r = new TraceReader(trace)) {
            SequencedReader events = new SequencedReader(tap == null ? r.arrowReader() : r.arrowReader(tap), r.allocator(), nextSeq);
            // The stream's release closes the reader too, but DuckDB releases it when it lets go of the scan, which may
            // be after the query returns and on its own thread: the reader is closed here before the TraceReader's
            // allocator, and closes only once (ClosingOnce). Left to the release, its seq vector once outlived the
            // allocator ("Memory was leaked", LifetimePairingTest).
            try (org.apache.arrow.vector.ipc.ArrowReader once = ClosingOnce.of(events, r.allocator());
                 ArrowArrayStream stream = register("kmemlab_load", once, r.allocator())) {
                try (PreparedStatement ps = conn.prepareStatement(create
                        ? "CREATE TABLE events AS SELECT ?::VARCHAR AS trace, * FROM kmemlab_load"
                        : "INSERT INTO events SELECT ?::VARCHAR AS trace, * FROM kmemlab_load")) {
                    ps.setString(1, trace.getFileName().toString());
                    ps.execute();
                }
                nextSeq = events.nextSeq();
                loadSnapshot(trace.getFileName().toString(), r.info().snapshot);
                if (tap != null) tap.end(r.info());
            }
        }
    }

    private static Tap both(Tap a, Tap b) {
        return new Tap() {
            @Override public void accept(org.kmemlab.trace.TraceBatch batch) {
                a.accept(batch);
                b.accept(batch);
            }

            @Override public void end(org.kmemlab.trace.TraceInfo info) throws IOException {
                a.end(info);
                b.end(info);
            }
        };
    }

    /**
     * Hands {@code reader}'s batches to DuckDB through the Arrow C data interface as {@code name}, which the
     * next query reads (a registered stream serves one query). The caller closes the stream after that query.
     */
    private ArrowArrayStream register(String name, org.apache.arrow.vector.ipc.ArrowReader reader,
                                      org.apache.arrow.memory.BufferAllocator allocator) throws SQLException {
        ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator);
        try {
            Data.exportArrayStream(allocator, reader, stream);
            conn.unwrap(DuckDBConnection.class).registerArrowStream(name, stream);
            return stream;
        } catch (SQLException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    /**
     * Points view {@code lifetime_pairs} at the pairs found while loading, when they are the SQL's: every
     * trace's timestamps in order, so that the load's order is the SQL's (ts_ns, seq). Otherwise the view
     * keeps its SQL.
     */
    private void useJavaPairs(List<LifetimePairing> pairings) throws SQLException, IOException {
        for (LifetimePairing p : pairings) if (!p.usable()) return;
        // The stream's release closes the reader too, but DuckDB releases it when it lets go of the scan, which may
        // be after the query returns: the reader is closed here before the allocator, and closes only once (ClosingOnce).
        try (org.apache.arrow.memory.BufferAllocator a = new org.apache.arrow.memory.RootAllocator();
             org.apache.arrow.vector.ipc.ArrowReader r = ClosingOnce.of(LifetimePairing.reader(pairings, a), a);
             ArrowArrayStream stream = register("kmemlab_pairs_load", r, a)) {
            execute("CREATE OR REPLACE TABLE kmemlab_pairs AS SELECT * FROM kmemlab_pairs_load");
        }
        execute("CREATE OR REPLACE VIEW lifetime_pairs AS SELECT * FROM kmemlab_pairs");
        javaPairs = true;
    }

    private boolean javaPairs;

    /** Whether view {@code lifetime_pairs} reads the pairs found while loading (else its SQL). */
    public boolean javaPairs() { return javaPairs; }

    /** Back to the SQL pairing and an unmaterialised {@code lifetimes_core}: the events changed since the load. */
    private void eventsChanged() throws SQLException {
        if (javaPairs) {
            execute("CREATE OR REPLACE VIEW lifetime_pairs AS SELECT * FROM lifetime_pairs_sql");
            execute("DROP TABLE IF EXISTS kmemlab_pairs");
            javaPairs = false;
        }
        if (materialized) {
            execute("CREATE OR REPLACE VIEW lifetimes_core AS SELECT * FROM lifetimes_core_sql");
            execute("DROP TABLE IF EXISTS kmemlab_lifetimes_core");
            materialized = false;
        }
    }

    /** The trace's /proc snapshot files (buddyinfo, zoneinfo, …) as rows of table {@code snapshot}. */
    private void loadSnapshot(String trace, java.util.Map<String, String> files) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO snapshot VALUES (?, ?, ?)")) {
            for (java.util.Map.Entry<String, String> f : files.entrySet()) {
                ps.setString(1, trace);
                ps.setString(2, f.getKey());
                ps.setString(3, f.getValue());
                ps.execute();
            }
        }
    }

    /**
     * Loads one more trace into {@code events} of an open session, replacing the rows of an earlier trace
     * with the same file name: a notebook that writes a trace again sees only the new one.
     */
    public void addTrace(Path trace) throws IOException, SQLException {
        try (PreparedStatement ps = conn.prepareStatement("DELETE FROM events WHERE trace = ?")) {
            ps.setString(1, trace.getFileName().toString());
            ps.execute();
        }
        eventsChanged();
        load(trace, false);
    }

    /** A trace has kmemlab's schema metadata; other Arrow streams (replay results) load as their own tables. */
    static boolean isKmemlabTrace(Path p) throws IOException {
        // the Arrow file format (what `kmemlab sql --format arrow` writes) is never a trace: traces are streams
        if (isArrowFileFormat(p)) return false;
        try (TraceReader r = new TraceReader(p)) {
            return true;
        } catch (org.kmemlab.trace.InputError e) {
            if (e.getMessage().contains("without kmemlab metadata")) return false;
            throw e;
        }
    }

    private static final byte[] ARROW_FILE_MAGIC = "ARROW1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static boolean isArrowFileFormat(Path p) throws IOException {
        byte[] head = new byte[ARROW_FILE_MAGIC.length];
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(p)) {
            return in.readNBytes(head, 0, head.length) == head.length && java.util.Arrays.equals(head, ARROW_FILE_MAGIC);
        }
    }

    /**
     * Loads a plain Arrow IPC stream (requests.arrow, profile.arrow, …) or Arrow file as a table named after
     * the file.
     */
    private void loadTable(Path file) throws IOException, SQLException {
        String name = file.getFileName().toString().replaceFirst("\\.arrow$", "").replaceAll("[^A-Za-z0-9_]", "_");
        boolean fileFormat = isArrowFileFormat(file);
        try (org.apache.arrow.memory.BufferAllocator a = new org.apache.arrow.memory.RootAllocator();
             org.apache.arrow.vector.ipc.ArrowReader r = ClosingOnce.of(fileFormat
                     ? new org.apache.arrow.vector.ipc.ArrowFileReader(java.nio.channels.FileChannel.open(file), a)
                     : new org.apache.arrow.vector.ipc.ArrowStreamReader(java.nio.file.Files.newInputStream(file), a), a)) {
            try {
                r.getVectorSchemaRoot();
            } catch (IOException | RuntimeException e) {
                throw org.kmemlab.trace.InputError.atOffset(file, 0, "an Arrow IPC stream or file with a schema (" + firstLine(e) + ")");
            }
            try (ArrowArrayStream stream = register("kmemlab_load", r, a)) {
                execute("CREATE TABLE \"" + name + "\" AS SELECT * FROM kmemlab_load");
            } catch (SQLException e) {
                // the batches are pulled by DuckDB: a damaged one surfaces as its error
                throw org.kmemlab.trace.InputError.of(file, "readable Arrow record batches (" + firstLine(e) + ")");
            }
        }
    }

    private static String firstLine(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) c = c.getCause();
        String m = String.valueOf(c.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** An empty {@code events} with the trace schema, so that the views still compile without a trace. */
    private void createEmptyEvents() throws SQLException {
        execute("CREATE TABLE events (trace VARCHAR, ts_ns BIGINT, cpu INTEGER, pid INTEGER, tid INTEGER, comm VARCHAR,"
                + " event VARCHAR, call_site VARCHAR, call_site_fn VARCHAR, ptr BIGINT, bytes_req BIGINT, bytes_alloc BIGINT,"
                + " gfp_flags BIGINT, gfp VARCHAR, node INTEGER, cache VARCHAR, accounted BOOLEAN, pfn BIGINT,"
                + " \"order\" INTEGER, migratetype INTEGER, context VARCHAR, stack_id INTEGER, extra VARCHAR, seq BIGINT)");
    }

    /** The SQL resources defining kmemlab's views and macros (VIEWS.md), in load order. */
    public static final List<String> VIEW_RESOURCES = List.of("views.sql");

    /** Views over a replay's tables, loaded once they exist (DuckDB binds a view's tables when it is created). */
    public static final List<String> REPLAY_VIEW_RESOURCES = List.of("replay-views.sql");

    private void loadViews() throws SQLException {
        loadViews(VIEW_RESOURCES);
    }

    private void loadViews(List<String> resources) throws SQLException {
        for (String res : resources) {
            String sql;
            try (java.io.InputStream in = TraceDb.class.getResourceAsStream(res)) {
                if (in == null) throw new IllegalStateException("missing resource " + res);
                sql = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            for (String stmt : splitScript(sql)) execute(stmt);
        }
    }

    /** Splits a script on ';' at the end of a line, dropping '--' comment lines: the resources' own convention. */
    static List<String> splitScript(String sql) {
        List<String> out = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : sql.split("\n")) {
            String t = line.strip();
            if (t.startsWith("--")) continue;
            cur.append(line).append('\n');
            if (t.endsWith(";")) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) out.add(cur.toString().strip());
        return out;
    }

    /**
     * Runs a query with its parameters bound (never spliced into the text) and exports the result as an
     * Arrow IPC file, through DuckDB's own Arrow export (DuckDBResultSet.arrowExportStream).
     */
    public long exportArrow(String sql, List<Object> params, Path out) throws SQLException, IOException {
        try (PreparedStatement ps = prepare(sql, params);
             org.duckdb.DuckDBResultSet rs = ps.executeQuery().unwrap(org.duckdb.DuckDBResultSet.class);
             org.apache.arrow.memory.BufferAllocator alloc = new org.apache.arrow.memory.RootAllocator();
             org.apache.arrow.vector.ipc.ArrowReader reader = (org.apache.arrow.vector.ipc.ArrowReader) rs.arrowExportStream(alloc, 65_536);
             java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(out, java.nio.file.StandardOpenOption.CREATE,
                     java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            org.apache.arrow.vector.VectorSchemaRoot root = reader.getVectorSchemaRoot();
            long rows = 0;
            try (org.apache.arrow.vector.ipc.ArrowFileWriter w = new org.apache.arrow.vector.ipc.ArrowFileWriter(root, reader, ch)) {
                w.start();
                while (reader.loadNextBatch()) {
                    rows += root.getRowCount();
                    w.writeBatch();
                }
                w.end();
            }
            return rows;
        }
    }

    /** Writes a query's result as one Parquet file (ZSTD) with DuckDB's COPY; parameters bound, not spliced. */
    public void exportParquet(String sql, List<Object> params, Path out) throws SQLException {
        try (PreparedStatement ps = prepare("COPY (" + stripSemicolon(sql) + ") TO " + quoteLiteral(out.toString())
                + " (FORMAT PARQUET, COMPRESSION ZSTD)", params)) {
            ps.execute();
        }
    }

    static String stripSemicolon(String sql) {
        String s = sql.strip();
        while (s.endsWith(";")) s = s.substring(0, s.length() - 1).strip();
        return s;
    }

    /**
     * A SQL string literal. Only for places DuckDB does not accept a parameter (COPY's file name, which is
     * part of the statement's plan); user values elsewhere are bound with {@link #prepare}.
     */
    public static String quoteLiteral(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** A prepared statement with the given values bound in order to its {@code ?} placeholders. */
    public PreparedStatement prepare(String sql, List<Object> params) throws SQLException {
        PreparedStatement ps = conn.prepareStatement(sql);
        for (int i = 0; i < params.size(); i++) ps.setObject(i + 1, params.get(i));
        return ps;
    }

    /**
     * A folder of Parquet results (a replay output folder): each {@code NAME.parquet}, or a hive-partitioned
     * folder {@code NAME/}, becomes the view {@code NAME}. This is how the replayer's {@code requests},
     * {@code profile} and {@code timeline} join the trace in one session without analysis-sql knowing them.
     * Returns the view names.
     */
    public List<String> attachFolder(Path dir) throws IOException, SQLException {
        List<String> replay = attachReplay(dir);
        if (!replay.isEmpty()) return replay;
        List<String> names = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String f = p.getFileName().toString();
                String name;
                String src;
                if (f.endsWith(".parquet") && java.nio.file.Files.isRegularFile(p)) {
                    name = f.substring(0, f.length() - ".parquet".length());
                    src = "read_parquet(" + quoteLiteral(p.toString()) + ")";
                } else if (java.nio.file.Files.isDirectory(p)) {
                    name = f;
                    src = "read_parquet(" + quoteLiteral(p.resolve("**").resolve("*.parquet").toString()) + ", hive_partitioning = true)";
                    try (java.util.stream.Stream<Path> w = java.nio.file.Files.walk(p)) {
                        if (w.noneMatch(x -> x.toString().endsWith(".parquet"))) continue;
                    }
                } else {
                    continue;
                }
                // a view name is an identifier: only names that need no quoting are attached
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*") || name.equals("events") || name.equals("snapshot")) continue;
                execute("CREATE OR REPLACE VIEW " + name + " AS SELECT * FROM " + src);
                names.add(name);
            }
        }
        return names;
    }

    /** The replay tables kmemlab replay writes per policy, and the names they get here. */
    private static final String[][] REPLAY_TABLES = {
        {"requests.arrow", "requests"}, {"profile.arrow", "profile"}, {"timeline.arrow", "timeline"}, {"events.arrow", "model_events"},
        {"cgroup_mutex.arrow", "cgroup_mutex"}};

    /** The tables {@link #attachReplay} makes (besides the view {@code policy_diff}). */
    public static List<String> replayTableNames() {
        List<String> names = new java.util.ArrayList<>();
        for (String[] t : REPLAY_TABLES) names.add(t[1]);
        return names;
    }

    /**
     * A {@code kmemlab replay} output folder ({@code out/<policy>/requests.arrow, profile.arrow,
     * timeline.arrow, events.arrow}): each kind of file of every policy becomes one table with a
     * {@code policy} column ({@code requests}, {@code profile}, {@code timeline}, {@code model_events}), and
     * the view {@code policy_diff} sets each policy's per-request totals beside baseline's with their ratio.
     * Returns the table names, or nothing when the folder is no replay output.
     */
    public List<String> attachReplay(Path dir) throws IOException, SQLException {
        List<Path> policies = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                if (java.nio.file.Files.isRegularFile(p.resolve("summary.json")) && java.nio.file.Files.isRegularFile(p.resolve("requests.arrow"))) {
                    policies.add(p);
                }
            }
        }
        if (policies.isEmpty()) return List.of();
        List<String> names = new java.util.ArrayList<>();
        for (String[] t : REPLAY_TABLES) {
            boolean created = false;
            for (Path p : policies) {
                Path f = p.resolve(t[0]);
                if (!java.nio.file.Files.isRegularFile(f)) continue;
                String policy = p.getFileName().toString();
                if (t[1].equals("model_events")) {
                    // The model's events are a kmemlab trace: load them like one, into their own table.
                    try (TraceReader r = new TraceReader(f);
                         ArrowArrayStream stream = register("kmemlab_load", r.arrowReader(), r.allocator())) {
                        insertFromLoad(t[1], policy, created);
                    }
                } else {
                    try (org.apache.arrow.memory.BufferAllocator a = new org.apache.arrow.memory.RootAllocator();
                         org.apache.arrow.vector.ipc.ArrowReader r = ClosingOnce.of(new org.apache.arrow.vector.ipc.ArrowStreamReader(
                                 java.nio.file.Files.newInputStream(f), a), a);
                         ArrowArrayStream stream = register("kmemlab_load", r, a)) {
                        insertFromLoad(t[1], policy, created);
                    }
                }
                created = true;
            }
            if (created) names.add(t[1]);
        }
        if (names.contains("timeline")) {
            loadViews(REPLAY_VIEW_RESOURCES);
            names.add("timeline_fragmentation");
        }
        if (names.contains("requests")) {
            execute("CREATE OR REPLACE VIEW policy_diff AS WITH m AS (SELECT policy, count(*) AS requests,"
                    + " sum(modeled_ns)::BIGINT AS modeled_ns, sum(spin_ns)::BIGINT AS spin_ns, sum(sleep_ns)::BIGINT AS sleep_ns,"
                    + " sum(delay_ns)::BIGINT AS delay_ns, count(*) FILTER (WHERE outcome <> 'ok') AS failures,"
                    + " count(fallback) AS fallbacks FROM requests GROUP BY policy),"
                    + " u AS (UNPIVOT m ON requests, modeled_ns, spin_ns, sleep_ns, delay_ns, failures, fallbacks INTO NAME metric VALUE value)"
                    + " SELECT u.metric, u.policy, b.value AS baseline, u.value AS value,"
                    + " CASE WHEN b.value = 0 THEN NULL ELSE u.value::DOUBLE / b.value END AS ratio"
                    + " FROM u LEFT JOIN u b ON b.metric = u.metric AND b.policy = 'baseline' ORDER BY u.metric, u.policy");
            names.add("policy_diff");
        }
        return names;
    }

    private void insertFromLoad(String table, String policy, boolean exists) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(exists
                ? "INSERT INTO \"" + table + "\" SELECT ?::VARCHAR AS policy, * FROM kmemlab_load"
                : "CREATE TABLE \"" + table + "\" AS SELECT ?::VARCHAR AS policy, * FROM kmemlab_load")) {
            ps.setString(1, policy);
            ps.execute();
        }
    }

    /**
     * Keeps the events in [fromS, toS] seconds after each trace's first event (null = open end), with the
     * bounds bound as parameters. Like perf kmem --time, but relative to the trace start.
     */
    public void restrictTime(Double fromS, Double toS) throws SQLException {
        try (PreparedStatement ps = prepare("DELETE FROM events e USING (SELECT trace AS t, min(ts_ns) AS t0 FROM events GROUP BY trace) s"
                + " WHERE e.trace = s.t AND ((?::DOUBLE IS NOT NULL AND e.ts_ns < s.t0 + ?::DOUBLE * 1e9)"
                + " OR (?::DOUBLE IS NOT NULL AND e.ts_ns > s.t0 + ?::DOUBLE * 1e9))",
                java.util.Arrays.asList(fromS, fromS, toS, toS))) {
            ps.execute();
        }
        eventsChanged();
    }

    private boolean materialized;

    /**
     * Computes {@code lifetimes_core} once into a temporary table and points the view at it. Every per-cache
     * and per-call-site view reads it, so a session that runs several of them (the report) pays for the
     * pairing's joins once. Idempotent.
     */
    public void materializeLifetimes() throws SQLException {
        if (materialized) return;
        execute("CREATE OR REPLACE TEMP TABLE kmemlab_lifetimes_core AS SELECT * FROM lifetimes_core_sql");
        execute("CREATE OR REPLACE VIEW lifetimes_core AS SELECT * FROM kmemlab_lifetimes_core");
        materialized = true;
    }

    public Connection connection() { return conn; }

    public void execute(String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(sql);
        }
    }

    /** Runs a user's query as given; a new Statement each time, since a failed query closes its Statement. */
    public ResultSet query(String sql) throws SQLException {
        Statement st = conn.createStatement();
        st.closeOnCompletion();
        return st.executeQuery(sql);
    }

    @Override
    public void close() throws SQLException {
        try {
            conn.close();
        } finally {
            if (sessionDir != null) {
                deleteTree(sessionDir);
                try {
                    Runtime.getRuntime().removeShutdownHook(sessionCleanup);
                } catch (IllegalStateException e) {
                    // the JVM is exiting: the hook runs and finds nothing left
                }
                sessionDir = null;
            }
        }
    }
}
