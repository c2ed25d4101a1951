package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.replay.MultiReplay;
import org.kmemlab.trace.TraceWriter;

/** Acceptance: each ../shared trace replays to the end under every policy, and every free finds its object. */
class SharedReplayTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"git", "compile", "tar"})
    void everyPolicyCompletesAndEveryFreeFindsItsObject(String name) throws Exception {
        Path dir = SharedTraces.dir();
        Path trace = tmp.resolve(name + ".arrow");
        ImportCommand.run(List.of(dir.resolve(name + ".txt.zst").toString()), trace, false, null, "auto",
                TraceWriter.Compression.NONE, ImportCommand.snapshotFiles(dir.resolve("machine")));
        List<String> policies = new ArrayList<>();
        for (var p : PolicyRegistry.all()) policies.add(p.id);
        Map<String, Map<String, Object>> res = MultiReplay.run(trace, policies, Map.of(), tmp.resolve("out"), 2);
        assertEquals(policies.size(), res.size());
        for (Map.Entry<String, Map<String, Object>> e : res.entrySet()) {
            Map<String, Object> s = e.getValue();
            String p = name + "/" + e.getKey();
            assertEquals(0L, ((Number) s.get("frees_without_object")).longValue(), p);
            assertNull(s.get("deadlock"), p);
            long events = ((Number) s.get("events")).longValue();
            long seen = ((Number) s.get("requests")).longValue() + ((Number) s.get("derived_events")).longValue()
                    + ((Number) s.get("observed_events")).longValue() + ((Number) s.get("ignored_events")).longValue();
            assertEquals(events, seen, p + ": every event is replayed or classified");
            assertTrue(((Number) s.get("requests")).longValue() > events / 2, p);
        }
    }
}
