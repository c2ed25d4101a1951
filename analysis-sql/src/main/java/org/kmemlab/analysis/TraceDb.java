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

    public static TraceDb open(List<Path> traces) throws IOException, SQLException {
        try {
            Class.forName("org.duckdb.DuckDBDriver");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        TraceDb db = new TraceDb(DriverManager.getConnection("jdbc:duckdb:"));
        boolean first = true;
        for (Path t : traces) {
            if (isKmemlabTrace(t)) {
                db.load(t, first);
                first = false;
            } else {
                db.loadTable(t);
            }
        }
        if (traces.isEmpty()) db.execute("CREATE TABLE events (ts_ns BIGINT)");
        return db;
    }

    private void load(Path trace, boolean create) throws IOException, SQLException {
        try (TraceReader r = new TraceReader(trace);
             ArrowArrayStream stream = ArrowArrayStream.allocateNew(r.allocator())) {
            Data.exportArrayStream(r.allocator(), r.arrowReader(), stream);
            DuckDBConnection dc = conn.unwrap(DuckDBConnection.class);
            dc.registerArrowStream("kmemlab_load", stream);
            try (PreparedStatement ps = conn.prepareStatement(create
                    ? "CREATE TABLE events AS SELECT ?::VARCHAR AS trace, * FROM kmemlab_load"
                    : "INSERT INTO events SELECT ?::VARCHAR AS trace, * FROM kmemlab_load")) {
                ps.setString(1, trace.getFileName().toString());
                ps.execute();
            }
        }
    }

    /** A trace has kmemlab's schema metadata; other Arrow streams (replay results) load as their own tables. */
    static boolean isKmemlabTrace(Path p) throws IOException {
        try (TraceReader r = new TraceReader(p)) {
            return true;
        } catch (org.kmemlab.trace.InputError e) {
            if (e.getMessage().contains("without kmemlab metadata")) return false;
            throw e;
        }
    }

    /** Loads a plain Arrow IPC stream (requests.arrow, profile.arrow, …) as a table named after the file. */
    private void loadTable(Path file) throws IOException, SQLException {
        String name = file.getFileName().toString().replaceFirst("\\.arrow$", "").replaceAll("[^A-Za-z0-9_]", "_");
        try (org.apache.arrow.memory.BufferAllocator a = new org.apache.arrow.memory.RootAllocator();
             org.apache.arrow.vector.ipc.ArrowStreamReader r = new org.apache.arrow.vector.ipc.ArrowStreamReader(
                     java.nio.file.Files.newInputStream(file), a);
             ArrowArrayStream stream = ArrowArrayStream.allocateNew(a)) {
            Data.exportArrayStream(a, r, stream);
            conn.unwrap(DuckDBConnection.class).registerArrowStream("kmemlab_load", stream);
            execute("CREATE TABLE \"" + name + "\" AS SELECT * FROM kmemlab_load");
        }
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
    public void close() throws SQLException { conn.close(); }
}
