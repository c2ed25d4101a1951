package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session whose tables live in a database file ({@link TraceDb.Storage#DISK}) answers every view exactly as
 * one in memory does, on a random trace with the report's unordered load and materialised lifetimes; its
 * folder exists while the session is open and is gone after; and {@code auto} counts events by the trailer.
 */
class SessionStorageTest {
    @TempDir Path tmp;

    static final List<String> QUERIES = List.of(
            "SELECT * FROM events ORDER BY seq",
            "SELECT * FROM allocs ORDER BY ALL",
            "SELECT * FROM frees ORDER BY ALL",
            "SELECT * FROM lifetimes ORDER BY ALL",
            "SELECT * FROM by_call_site ORDER BY ALL",
            "SELECT * FROM by_cache ORDER BY ALL",
            "SELECT * FROM pages_by_order_migratetype_gfp ORDER BY ALL",
            "SELECT * FROM live_bytes_over_time(50) ORDER BY ALL");

    Path trace(String name, long seed, int events) throws Exception {
        LifetimePairingTest g = new LifetimePairingTest();
        g.tmp = tmp;
        return g.randomTrace(name, seed, events, false);
    }

    static List<List<List<Object>>> answers(TraceDb db) throws Exception {
        List<List<List<Object>>> out = new ArrayList<>();
        for (String q : QUERIES) out.add(ViewsTest.rows(db, q));
        db.materializeLifetimes();
        out.add(ViewsTest.rows(db, "SELECT * FROM by_cache ORDER BY ALL"));
        out.add(ViewsTest.rows(db, "SELECT * FROM lifetimes ORDER BY ALL"));
        return out;
    }

    @Test
    void diskSessionAnswersAsMemory() throws Exception {
        Path t = trace("r.arrow", 7, 20_000);
        List<List<List<Object>>> mem, disk;
        try (TraceDb db = TraceDb.open(List.of(t), Map.of(), true, false, TraceDb.Storage.MEMORY)) {
            assertFalse(db.onDisk());
            mem = answers(db);
        }
        Path dir;
        try (TraceDb db = TraceDb.open(List.of(t), Map.of(), true, false, TraceDb.Storage.DISK)) {
            assertTrue(db.onDisk());
            dir = db.sessionDir();
            assertTrue(Files.isRegularFile(dir.resolve("session.duckdb")), "the tables are in the session's file");
            assertEquals(List.of(List.of("kmemlab_session")), ViewsTest.rows(db, "SELECT current_database()"));
            // DISK_MEMORY_LIMIT, 1536 MB (DuckDB counts MB in thousands), shown in GiB
            assertEquals(List.of(List.of((Object) "1.4 GiB")), ViewsTest.rows(db, "SELECT current_setting('memory_limit')"));
            disk = answers(db);
        }
        assertFalse(Files.exists(dir), "the session's folder goes with the session");
        assertEquals(QUERIES.size() + 2, mem.size());
        for (int i = 0; i < mem.size(); i++) {
            assertFalse(mem.get(i).isEmpty(), "query " + i + " has rows on this trace");
            assertEquals(mem.get(i), disk.get(i), i < QUERIES.size() ? QUERIES.get(i) : "after materializeLifetimes");
        }
    }

    @Test
    void autoCountsEventsByTheTrailer() throws Exception {
        Path t = trace("a.arrow", 3, 5_000);
        assertEquals(5_000, TraceDb.eventsOf(t));
        // cut short: no trailer, so the size at eight bytes an event stands in (more than the events it holds)
        Path cut = tmp.resolve("cut.arrow");
        byte[] all = Files.readAllBytes(t);
        Files.write(cut, java.util.Arrays.copyOf(all, all.length * 3 / 4));
        assertEquals(Files.size(cut) / 8, TraceDb.eventsOf(cut));
        assertNotEquals(0, TraceDb.eventsOf(cut));
        // a folder (replay output) and a file that is no trace hold no events
        assertEquals(0, TraceDb.eventsOf(tmp));
        Path other = tmp.resolve("x.txt");
        Files.writeString(other, "not arrow");
        assertThrows(org.kmemlab.trace.InputError.class, () -> TraceDb.eventsOf(other),
                "a file that is no Arrow stream is refused as the load would refuse it");
        assertFalse(TraceDb.Storage.AUTO.onDisk(List.of(t)), "5,000 events stay in memory");
        assertTrue(TraceDb.Storage.DISK.onDisk(List.of(t)));
        assertFalse(TraceDb.Storage.MEMORY.onDisk(List.of(t)));
        assertEquals(TraceDb.Storage.DISK, TraceDb.Storage.of("Disk"));
        assertThrows(IllegalArgumentException.class, () -> TraceDb.Storage.of("ssd"));
    }
}
