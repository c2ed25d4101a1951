package org.kmemlab.cli.notebook;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed notebook (notebooks/README.md): Markdown prose and executable cells in file order. Lines are
 * 1-based lines of {@link #file()}, so every error can name where it comes from.
 */
public record Notebook(Path file, List<Block> blocks) {
    public sealed interface Block permits Prose, Cell {}

    /** Markdown between cells, as written. */
    public record Prose(String markdown, int line) implements Block {}

    /** A fenced cell; {@code line} is its opening fence, the body starts on the next line. */
    public record Cell(Kind kind, String body, int line) implements Block {
        public int bodyLine() { return line + 1; }
    }

    /** The fence info words that make a code block executable; any other fence stays prose. */
    public enum Kind {
        SQL, CHART, KMEMLAB, VERDICT;

        public String fence() { return name().toLowerCase(Locale.ROOT); }

        static Kind ofInfo(String info) {
            if (info == null) return null;
            String w = info.strip().split("\\s+", 2)[0];
            for (Kind k : values()) if (k.fence().equals(w)) return k;
            return null;
        }
    }

    public List<Cell> cells() {
        List<Cell> l = new ArrayList<>();
        for (Block b : blocks) if (b instanceof Cell c) l.add(c);
        return l;
    }

    /** The notebook's name: its file name without {@code .md}; outputs are NAME.html and NAME.ipynb. */
    public String name() {
        String f = file.getFileName().toString();
        return f.endsWith(".md") ? f.substring(0, f.length() - 3) : f;
    }

    /** The first level-1 heading of the prose, or the name. */
    public String title() {
        for (Block b : blocks) {
            if (b instanceof Prose p) {
                for (String l : p.markdown().split("\n")) {
                    if (l.startsWith("# ")) return l.substring(2).strip();
                }
            }
        }
        return name();
    }
}
