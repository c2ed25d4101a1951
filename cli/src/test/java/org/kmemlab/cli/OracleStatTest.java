package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kmemlab.analysis.KmemStat;
import org.kmemlab.trace.TraceWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Acceptance: for each ../shared/traces/*.txt.zst, import then {@code stat --format json} equals the
 * independently computed oracle on every key the oracle has.
 */
class OracleStatTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"git", "compile", "tar"})
    void statEqualsTheOracle(String name) throws Exception {
        Path dir = SharedTraces.dir();
        Path trace = tmp.resolve(name + ".arrow");
        ImportCommand.run(List.of(dir.resolve(name + ".txt.zst").toString()), trace, false, null, "auto",
                TraceWriter.Compression.NONE, Map.of());
        ObjectMapper om = new ObjectMapper();
        JsonNode ours = om.valueToTree(KmemStat.of(trace, false).toJson(10));
        JsonNode oracle = om.readTree(dir.resolve(name + ".oracle.json").toFile());
        List<String> diffs = new ArrayList<>();
        compare(oracle, ours, name, diffs);
        assertEquals(List.of(), diffs);
    }

    static void compare(JsonNode oracle, JsonNode ours, String path, List<String> diffs) {
        if (oracle.isObject()) {
            oracle.fields().forEachRemaining(f -> {
                JsonNode o = ours == null ? null : ours.get(f.getKey());
                if (o == null) diffs.add(path + "." + f.getKey() + " missing");
                else compare(f.getValue(), o, path + "." + f.getKey(), diffs);
            });
            // Order matters for the top-N objects: they are rankings.
            if (ours != null && path.contains("top_")) {
                List<String> ko = new ArrayList<>(), ku = new ArrayList<>();
                oracle.fieldNames().forEachRemaining(ko::add);
                ours.fieldNames().forEachRemaining(ku::add);
                if (!ko.equals(ku)) diffs.add(path + " order " + ko + " vs " + ku);
            }
        } else if (oracle.isArray()) {
            if (ours == null || !ours.isArray() || ours.size() != oracle.size()) {
                diffs.add(path + ": " + oracle + " vs " + ours);
                return;
            }
            for (int i = 0; i < oracle.size(); i++) compare(oracle.get(i), ours.get(i), path + "[" + i + "]", diffs);
        } else if (oracle.isNumber() && ours.isNumber()) {
            if (oracle.isIntegralNumber() ? oracle.asLong() != ours.asLong() : Math.abs(oracle.asDouble() - ours.asDouble()) > 1e-6) {
                diffs.add(path + ": " + oracle + " vs " + ours);
            }
        } else if (!oracle.equals(ours)) {
            diffs.add(path + ": " + oracle + " vs " + ours);
        }
    }
}
