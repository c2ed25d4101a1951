package org.kmemlab.cli.notebook;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.cli.Main;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/**
 * The .ipynb files validate against the official nbformat 4.5 schema (test resource, source in
 * NBFORMAT-SCHEMA.md), with every kind of output in them: stream, display_data with HTML and with a PNG,
 * and error.
 */
class IpynbSchemaTest {
    @TempDir Path tmp;

    static Schema schema() throws Exception {
        try (InputStream in = IpynbSchemaTest.class.getResourceAsStream("nbformat.v4.5.schema.json")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(text);
        }
    }

    @Test
    void aNotebookWithEveryKindOfOutputIsValidNbformat45() throws Exception {
        Path out = tmp.resolve("out");
        Path nb = tmp.resolve("all.md");
        Files.writeString(nb, """
                # Every output

                Prose, with a table:

                | a | b |
                |---|---|
                | 1 | 2 |

                ```kmemlab
                policies
                ```

                ```sql
                SELECT 1 AS one, 'two' AS two
                ```

                ```chart
                SELECT x, 'line' AS series, x * x AS y FROM range(1, 10) t(x)
                ```

                ```sql
                SELECT * FROM missing
                ```

                ```verdict
                SELECT 'c' AS claim, 1 AS expected, 1 AS measured, true AS holds
                ```
                """);
        NotebookRun run = new NotebookRunner(out, Main::commandLine, NotebookRunTest.NO_DEMO,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run(NotebookParser.parse(nb));
        Path file = out.resolve("all.ipynb");
        Ipynb.write(run, file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());

        Set<String> kinds = new HashSet<>();
        for (JsonNode c : json.get("cells")) {
            for (JsonNode o : c.path("outputs")) {
                kinds.add(o.get("output_type").asText());
                o.path("data").fieldNames().forEachRemaining(kinds::add);
            }
        }
        assertEquals(Set.of("stream", "display_data", "error", "text/html", "text/plain", "image/png"), kinds);

        List<Error> errors = schema().validate(json);
        assertEquals(List.of(), errors);
    }

    @Test
    void theSchemaRejectsWhatNbformatRejects() throws Exception {
        // the validator really checks: a code cell without execution_count, a bad cell id, a wrong nbformat
        ObjectNode nb = (ObjectNode) new ObjectMapper().readTree("""
                {"cells": [{"id": "c1", "cell_type": "code", "metadata": {}, "source": ["SELECT 1"], "outputs": [], "execution_count": 1}],
                 "metadata": {"kernelspec": {"name": "kmemlab", "display_name": "kmemlab"}, "language_info": {"name": "kmemlab"}},
                 "nbformat": 4, "nbformat_minor": 5}""");
        Schema s = schema();
        assertEquals(List.of(), s.validate(nb));
        ObjectNode noCount = nb.deepCopy();
        ((ObjectNode) noCount.get("cells").get(0)).remove("execution_count");
        assertFalse(s.validate(noCount).isEmpty());
        ObjectNode badId = nb.deepCopy();
        ((ObjectNode) badId.get("cells").get(0)).put("id", "cell 1");
        assertFalse(s.validate(badId).isEmpty());
        ObjectNode v3 = nb.deepCopy();
        v3.put("nbformat", 3);
        assertFalse(s.validate(v3).isEmpty());
    }
}
