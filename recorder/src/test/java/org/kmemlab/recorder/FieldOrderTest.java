package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.TraceEvent;

/**
 * The field parser first tries the name that followed the previous name last time. Here the names come in a
 * different random order on every line, include names that are prefixes of others ({@code x}, {@code xy},
 * {@code xyz}, {@code bytes_req} beside {@code bytes}) and values that look like names, so most guesses are
 * wrong in some way: each line must still give the fields it was printed with.
 */
class FieldOrderTest {
    @TempDir Path dir;

    @AfterEach
    void restore() { TextImporter.twoThreads = true; }

    static final String[] NAMES = {"x", "xy", "xyz", "bytes", "bytes_req", "bytes_reqx", "y=", "node_", "nodex"};

    @Test
    void everyLineKeepsItsOwnFieldsWhateverTheOrder() throws Exception {
        Random r = new Random(5);
        StringBuilder sb = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            List<String> names = new ArrayList<>(List.of(NAMES));
            java.util.Collections.shuffle(names, r);
            // Often the same order as the line before, as real traces print it.
            if (i > 0 && r.nextInt(3) > 0) names = new ArrayList<>(List.of(NAMES));
            names = names.subList(0, 1 + r.nextInt(names.size()));
            StringBuilder fields = new StringBuilder("call_site=f+0x1 ptr=0x10");
            StringBuilder extra = new StringBuilder();
            long req = -1;
            for (String n : names) {
                String v = r.nextBoolean() ? Integer.toString(r.nextInt(1000)) : NAMES[r.nextInt(NAMES.length)].replace("=", "");
                if (n.equals("bytes_req")) v = Integer.toString(r.nextInt(1000));
                fields.append(' ').append(n).append('=').append(v);
                if (n.equals("bytes_req")) {
                    req = Long.parseLong(v);
                } else {
                    // Unknown names stay in extra as name=value; "y=" prints as "y==v", whose name is y and value =v.
                    String name = n.endsWith("=") ? n.substring(0, n.length() - 1) : n;
                    String value = n.endsWith("=") ? "=" + v : v;
                    if (extra.length() > 0) extra.append(' ');
                    extra.append(name).append('=').append(value);
                }
            }
            sb.append(String.format("%16s %5d [%03d] %d.%06d: %28s %s%n", "tar", 100, i % 2, 8700 + i, i, "kmem:kmalloc:", fields));
            expected.add(req + "|" + (extra.length() == 0 ? null : extra));
        }
        for (boolean two : new boolean[] {false, true}) {
            TextImporter.twoThreads = two;
            Path out = ImportSupport.importPerfScriptText(sb.toString(), dir, ImportOptions.defaults());
            List<String> got = new ArrayList<>();
            ImportSupport.read(out, e -> got.add((e.has(TraceEvent.F_BYTES_REQ) ? e.bytesReq : -1) + "|" + e.extra));
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < expected.size(); i++) assertEquals(expected.get(i), got.get(i), "line " + (i + 1) + " two threads " + two);
        }
    }
}
