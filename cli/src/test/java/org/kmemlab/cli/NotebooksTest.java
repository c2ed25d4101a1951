package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every notebook in the repository's notebooks/ (found through the {@code kmemlab.root} system property
 * that the build sets) runs with every cell succeeding and every verdict claim holding. New notebooks are
 * picked up as they are added; notebooks/README.md documents the format and is not one.
 */
class NotebooksTest {
    @TempDir Path tmp;

    static List<Path> notebooks() throws Exception {
        String root = System.getProperty("kmemlab.root");
        Assumptions.assumeTrue(root != null, "kmemlab.root is not set (run through Maven)");
        Path dir = Path.of(root, "notebooks");
        Assumptions.assumeTrue(Files.isDirectory(dir), dir + " is absent");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".md") && !p.getFileName().toString().equals("README.md"))
                    .sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyNotebookRunsAndItsVerdictsHold() throws Exception {
        List<Path> nbs = notebooks();
        assertFalse(nbs.isEmpty(), "notebooks/ holds at least the real-trace tour");
        return nbs.stream().map(nb -> DynamicTest.dynamicTest(nb.getFileName().toString(), () -> {
            Path out = tmp.resolve(nb.getFileName().toString().replaceFirst("\\.md$", ""));
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            java.io.PrintStream oldErr = System.err;
            CliTest.Run r;
            try {
                // the notebook's progress and failed claims go to System.err; keep them for the message
                System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
                r = CliTest.run("notebook", "run", nb.toString(), "-o", out.toString());
            } finally {
                System.setErr(oldErr);
            }
            String progress = err.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, r.status(), () -> nb + " failed:\n" + r.err() + progress);
            assertTrue(r.out().contains("claims hold"), r.out());
            String name = nb.getFileName().toString().replaceFirst("\\.md$", "");
            assertTrue(Files.isRegularFile(out.resolve(name + ".html")));
            assertTrue(Files.isRegularFile(out.resolve(name + ".ipynb")));
        }));
    }
}
