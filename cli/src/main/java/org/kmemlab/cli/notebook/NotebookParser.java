package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.Node;
import org.commonmark.node.SourceSpan;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.Parser;
import org.kmemlab.trace.InputError;

/**
 * Splits a notebook's Markdown into prose and cells. A cell is a top-level fenced code block whose info
 * string starts with {@code sql}, {@code chart}, {@code kmemlab} or {@code verdict}. CommonMark's own
 * parser finds the fences, so a longer fence (four backticks) can show a three-backtick cell as an example
 * without running it, and fences inside lists or quotes stay prose, exactly as a Markdown viewer shows them.
 */
public final class NotebookParser {
    private NotebookParser() {}

    public static Notebook parse(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file);
    }

    public static Notebook parse(String text, Path file) {
        // CommonMark ends a line at \n, \r or \r\n: split the text the same way, or its line indices point
        // past ours (a lone \r found by NotebookFuzzTest)
        String src = text.replace("\r\n", "\n").replace('\r', '\n');
        String[] lines = src.split("\n", -1);
        Node doc = Parser.builder().includeSourceSpans(IncludeSourceSpans.BLOCKS).build().parse(src);
        List<Notebook.Block> blocks = new ArrayList<>();
        int next = 0; // first line (0-based) not yet in a block
        for (Node n = doc.getFirstChild(); n != null; n = n.getNext()) {
            if (!(n instanceof FencedCodeBlock f)) continue;
            Notebook.Kind kind = Notebook.Kind.ofInfo(f.getInfo());
            if (kind == null) continue;
            List<SourceSpan> spans = f.getSourceSpans();
            int first = spans.get(0).getLineIndex();
            int last = spans.get(spans.size() - 1).getLineIndex();
            if (f.getClosingFenceLength() == null) {
                throw InputError.atLine(file, first + 1, "the ```" + kind.fence() + " cell's fence is never closed");
            }
            prose(lines, next, first, blocks);
            blocks.add(new Notebook.Cell(kind, f.getLiteral(), first + 1));
            next = last + 1;
        }
        prose(lines, next, lines.length, blocks);
        return new Notebook(file, blocks);
    }

    /** Lines [from, to) as prose, without the blank lines around it; nothing when they are all blank. */
    private static void prose(String[] lines, int from, int to, List<Notebook.Block> out) {
        while (from < to && lines[from].isBlank()) from++;
        while (to > from && lines[to - 1].isBlank()) to--;
        if (from >= to) return;
        out.add(new Notebook.Prose(String.join("\n", java.util.Arrays.asList(lines).subList(from, to)) + "\n", from + 1));
    }
}
