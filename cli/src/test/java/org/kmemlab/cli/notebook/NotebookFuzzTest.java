package org.kmemlab.cli.notebook;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.kmemlab.cli.Main;
import org.kmemlab.trace.InputError;

/**
 * Fuzzes the notebook reader (issue 9): the Markdown parse into cells, each chart cell's options and each
 * kmemlab cell's command lines with their path checks — everything a notebook file decides before any cell
 * runs. A bad notebook must be an {@link InputError} naming the file and line, nothing else. Seeds: two of
 * the repository's notebooks. Runs nothing: no command executes, no file is written.
 */
class NotebookFuzzTest {
    private static final Path FILE = Path.of("fuzz.md");
    private static final Path OUT = Path.of("target", "notebook-fuzz-out");

    @FuzzTest
    void notebook(byte[] data) {
        try {
            Notebook nb = NotebookParser.parse(new String(data, StandardCharsets.UTF_8), FILE);
            CommandLines commands = new CommandLines(Main::commandLine, new CellPaths(OUT, FILE, dir -> dir), FILE);
            for (Notebook.Block b : nb.blocks()) {
                if (!(b instanceof Notebook.Cell c)) continue;
                switch (c.kind()) {
                    case CHART -> ChartCell.parse(c, FILE);
                    case KMEMLAB -> commands.lines(c);
                    default -> { }
                }
            }
        } catch (InputError expected) {
            // a notebook mistake, named with its file and line
        }
    }
}
