package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.kmemlab.analysis.TraceDb;
import org.kmemlab.trace.TraceReader;

/**
 * What a {@code kmemlab} cell's paths bring into the notebook's SQL session: a trace file joins
 * {@code events} (and so every view of VIEWS.md); a replay output folder becomes {@code requests},
 * {@code profile}, {@code timeline}, {@code model_events} and {@code policy_diff} (TraceDb.attachReplay)
 * plus {@code summary}, each policy's summary.json flattened to {@code (policy, key, value, num)}. A path
 * is attached again only when it changed since, so naming an input trace again costs nothing.
 */
final class Attachments {
    static final List<String> REPLAY_TABLES = replayTables();

    private static List<String> replayTables() {
        List<String> t = new ArrayList<>(TraceDb.replayTableNames());
        t.add("summary");
        return List.copyOf(t);
    }

    private final TraceDb db;
    private final Map<Path, String> seen = new HashMap<>();

    Attachments(TraceDb db) { this.db = db; }

    /** Attaches what is new among the paths; returns one line per attachment for the cell's output. */
    List<String> attach(List<Path> paths, Path outDir) throws IOException, SQLException {
        List<String> notes = new ArrayList<>();
        for (Path p : new java.util.LinkedHashSet<>(paths)) {
            if (!Files.exists(p)) continue;
            String stamp = stamp(p);
            if (stamp.equals(seen.get(p))) continue;
            String rel = outDir.toAbsolutePath().relativize(p.toAbsolutePath()).toString();
            if (Files.isRegularFile(p) && isTrace(p)) {
                db.addTrace(p);
                long n = count("SELECT count(*) FROM events WHERE trace = ?", p.getFileName().toString());
                notes.add(String.format(Locale.ROOT, "sql: %s is in events as trace '%s' (%,d events)", rel, p.getFileName(), n));
            } else if (Files.isDirectory(p) && isReplay(p)) {
                // the tables hold one replay at a time: the folder named last replaces the one before
                for (String t : REPLAY_TABLES) db.execute("DROP TABLE IF EXISTS " + t);
                db.execute("DROP VIEW IF EXISTS policy_diff");
                List<String> names = new ArrayList<>(db.attachReplay(p));
                int policies = summary(p);
                names.add("summary");
                notes.add(String.format(Locale.ROOT, "sql: replay %s (%d polic%s) is in %s", rel, policies, policies == 1 ? "y" : "ies",
                        String.join(", ", names)));
            } else {
                continue;
            }
            seen.put(p, stamp(p));
        }
        return notes;
    }

    /** Size and modification time of a file, or of a folder's files: what tells that it was written again. */
    private static String stamp(Path p) throws IOException {
        if (Files.isRegularFile(p)) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return a.size() + "@" + a.lastModifiedTime().toMillis();
        }
        StringBuilder sb = new StringBuilder();
        try (var s = Files.walk(p, 2)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) sb.append(f).append(':').append(stamp(f)).append(';');
        }
        return sb.toString();
    }

    static boolean isTrace(Path p) {
        // the reader's constructor checks the schema and kmemlab's metadata; readInfo accepts any file
        try (TraceReader r = new TraceReader(p)) {
            return true;
        } catch (IOException | RuntimeException e) { // InputError: not a kmemlab trace
            return false;
        }
    }

    static boolean isReplay(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.anyMatch(d -> Files.isRegularFile(d.resolve("summary.json")) && Files.isRegularFile(d.resolve("requests.arrow")));
        }
    }

    private long count(String sql, String param) throws SQLException {
        try (PreparedStatement ps = db.prepare(sql, List.of(param)); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Fills {@code summary} from every policy folder's summary.json; returns the number of policies. */
    int summary(Path replayDir) throws IOException, SQLException {
        db.execute("CREATE OR REPLACE TABLE summary (policy VARCHAR, key VARCHAR, value VARCHAR, num DOUBLE)");
        int policies = 0;
        ObjectMapper om = new ObjectMapper();
        List<Path> dirs;
        try (var s = Files.list(replayDir)) {
            dirs = s.filter(d -> Files.isRegularFile(d.resolve("summary.json"))).sorted().toList();
        }
        try (PreparedStatement ps = db.connection().prepareStatement("INSERT INTO summary VALUES (?, ?, ?, ?)")) {
            for (Path d : dirs) {
                Map<String, JsonNode> flat = new java.util.LinkedHashMap<>();
                flatten("", om.readTree(d.resolve("summary.json").toFile()), flat);
                for (Map.Entry<String, JsonNode> e : flat.entrySet()) {
                    JsonNode v = e.getValue();
                    ps.setString(1, d.getFileName().toString());
                    ps.setString(2, e.getKey());
                    ps.setString(3, v.isNull() ? null : v.isContainerNode() ? v.toString() : v.asText());
                    Double num = number(v);
                    if (num == null) ps.setNull(4, java.sql.Types.DOUBLE); else ps.setDouble(4, num);
                    ps.addBatch();
                }
                policies++;
            }
            ps.executeBatch();
        }
        return policies;
    }

    /** Objects by dotted keys ({@code a.b}), arrays by index ({@code a.0}); an empty container is one row. */
    static void flatten(String prefix, JsonNode n, Map<String, JsonNode> out) {
        if (n.isObject() && n.size() > 0) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (n.isArray() && n.size() > 0) {
            for (int i = 0; i < n.size(); i++) flatten(prefix.isEmpty() ? Integer.toString(i) : prefix + "." + i, n.get(i), out);
        } else {
            out.put(prefix, n);
        }
    }

    /** A JSON number, or a string that parses as one; null otherwise (text, booleans, null). */
    static Double number(JsonNode v) {
        if (v.isNumber()) return v.asDouble();
        if (v.isTextual()) {
            try {
                double d = Double.parseDouble(v.asText().strip());
                return Double.isFinite(d) ? d : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
